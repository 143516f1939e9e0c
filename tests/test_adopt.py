"""``appcdn adopt``: a live zone taken over through an import file, against a loopback Cloudflare API.

The shipped stacks: the live stack owns example.com (zone 023e105f…) and serves shop (www.example.com,
example.com, media on media.example.com) and blog (blog.example.com, media on files.example.com); the test
stack serves test.example.com, media-test.example.com and blog-test.example.com on the same zone.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from appcdn.commands.adopt.importer import urn
from appcdn.commands.cli import load_stack
from appcdn.rules.expressions import Request
from appcdn.rules.rulesets import ZoneRules
from tests.cloudflare_fake import DUMMY_TOKEN, FakeCloudflare, cloudflare_error, fixture
from tests.conftest import ROOT, ZONE_ID, appcdn, declare, project_dir, raw_config

CACHE_RULESET_ID = "2f2feab2026849078ba485f918791bdc"
CONNECTOR_RULES = fixture("cloud_connector_rules.json")["result"]


def shipped_rules() -> ZoneRules:
    """example.com's rules as the live stack compiles them (the expectations follow the policy)."""
    loaded = load_stack(ROOT, "live", "adopt")
    assert loaded is not None
    return loaded[2]["example.com"]


def refs_for(host: str, path: str) -> str:
    return ", ".join(r.ref for r in shipped_rules().cache if r.matches(Request(host=host, path=path)))


def record(record_id: str, name: str, type_: str, content: str, proxied: bool = True) -> dict[str, Any]:
    documented: dict[str, Any] = copy.deepcopy(fixture("dns_records.json")["result"][0])
    return documented | {"id": record_id, "name": name, "type": type_, "content": content, "proxied": proxied}


def dashboard_cache_rules() -> dict[str, Any]:
    """The zone's cache entry point as made in the dashboard: a 2 h cache of /blog/*, a rule for another
    host, and one whose source-IP test cannot be evaluated here."""
    ruleset: dict[str, Any] = copy.deepcopy(fixture("cache_rules_entrypoint.json")["result"])
    ruleset["id"] = CACHE_RULESET_ID
    ruleset["rules"] = [
        {
            "id": "r1",
            "version": "1",
            "ref": "r1",
            "enabled": True,
            "description": "blog 2h",
            "expression": '(starts_with(http.request.uri.path, "/blog/"))',
            "action": "set_cache_settings",
            "action_parameters": {"cache": True, "edge_ttl": {"mode": "override_origin", "default": 7200}},
        },
        {
            "id": "r2",
            "version": "1",
            "ref": "r2",
            "enabled": True,
            "description": "static host",
            "expression": '(http.host eq "static.example.com" and http.request.uri.query contains "v=")',
            "action": "set_cache_settings",
            "action_parameters": {"cache": True},
        },
        {
            "id": "r3",
            "version": "1",
            "ref": "r3",
            "enabled": True,
            "description": "office",
            "expression": '(http.host eq "blog.example.com" and ip.src eq 192.0.2.1)',
            "action": "set_cache_settings",
            "action_parameters": {"cache": False},
        },
    ]
    return ruleset


def live_zone() -> dict[str, Any]:
    return {
        "name": "example.com",
        "entrypoints": {"http_request_cache_settings": dashboard_cache_rules()},
        "connector": copy.deepcopy(CONNECTOR_RULES),
        "page_rules": [
            {
                "id": "pr1",
                "status": "active",
                "priority": 2,
                "targets": [{"target": "url", "constraint": {"operator": "matches", "value": "*example.com/blog/*"}}],
                "actions": [
                    {"id": "cache_level", "value": "cache_everything"},
                    {"id": "edge_cache_ttl", "value": 7200},
                ],
            },
            *copy.deepcopy(fixture("page_rules.json")["result"]),
        ],
        "records": [
            record("rec-apex-a", "example.com", "A", "198.51.100.4"),
            record("rec-apex-txt", "example.com", "TXT", '"v=spf1 -all"', proxied=False),
            record("rec-apex-mx", "example.com", "MX", "mail.example.com", proxied=False),
            record("rec-www", "www.example.com", "CNAME", "old-shop.example.net"),
            record("rec-blog-1", "blog.example.com", "A", "192.0.2.10"),
            record("rec-blog-2", "blog.example.com", "A", "192.0.2.11"),
            record("rec-files", "files.example.com", "CNAME", "exampleblogmedia.blob.core.windows.net"),
            record("rec-test", "test.example.com", "CNAME", "shop-test.eu.aldryn.io"),
        ],
    }


EXPECTED_LIVE_IMPORT = {
    "resources": [
        {"type": "appcdn:index:Zone", "name": "example-com", "component": True},
        {
            "type": "cloudflare:index/ruleset:Ruleset",
            "name": "example-com-cache-rules",
            "id": f"zones/{ZONE_ID}/{CACHE_RULESET_ID}",
            "parent": "example-com",
        },
        {
            "type": "cloudflare:index/cloudConnectorRules:CloudConnectorRules",
            "name": "example-com-cloud-connector",
            "id": ZONE_ID,
            "parent": "example-com",
        },
        {"type": "appcdn:index:AppHosts", "name": "shop-live", "component": True},
        {
            "type": "cloudflare:index/dnsRecord:DnsRecord",
            "name": "shop-live-example.com",
            "id": f"{ZONE_ID}/rec-apex-a",
            "parent": "shop-live",
        },
        {
            "type": "cloudflare:index/dnsRecord:DnsRecord",
            "name": "shop-live-www.example.com",
            "id": f"{ZONE_ID}/rec-www",
            "parent": "shop-live",
        },
        {"type": "appcdn:index:AppHosts", "name": "blog-live-media-domain", "component": True},
        {
            "type": "cloudflare:index/dnsRecord:DnsRecord",
            "name": "blog-live-media-domain-files.example.com",
            "id": f"{ZONE_ID}/rec-files",
            "parent": "blog-live-media-domain",
        },
    ]
}


@pytest.fixture
def live(cloudflare_api: FakeCloudflare) -> FakeCloudflare:
    cloudflare_api.zones[ZONE_ID] = live_zone()
    return cloudflare_api


def run_adopt(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, stack: str = "live", cwd: Path = ROOT
) -> tuple[int, str, str, Path]:
    out = tmp_path / f"adopt.{stack}.json"
    code, stdout, stderr = appcdn(capsys, "adopt", "--stack", stack, "--out", str(out), cwd=cwd)
    return code, stdout, stderr, out


def test_the_import_file_names_what_exists_with_our_logical_names_types_parents_and_ids(
    live: FakeCloudflare, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, _, _, out = run_adopt(capsys, tmp_path)
    assert code == 0
    assert json.loads(out.read_text()) == EXPECTED_LIVE_IMPORT


def test_adopt_only_reads(live: FakeCloudflare, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    run_adopt(capsys, tmp_path)
    assert live.requests and {r.method for r in live.requests} == {"GET"}
    assert {r.authorization for r in live.requests} == {f"Bearer {DUMMY_TOKEN}"}


def test_the_token_is_never_printed(live: FakeCloudflare, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    _, stdout, stderr, out = run_adopt(capsys, tmp_path)
    live.failing[f"/zones/{ZONE_ID}/pagerules"] = (403, cloudflare_error(10000, "Authentication error"))
    _, error_out, error_err, _ = run_adopt(capsys, tmp_path)
    for text in (stdout, stderr, out.read_text(), error_out, error_err):
        assert DUMMY_TOKEN not in text


def test_a_phase_without_an_entry_point_is_left_for_up(
    live: FakeCloudflare, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, stdout, _, out = run_adopt(capsys, tmp_path)
    assert code == 0
    assert f"/zones/{ZONE_ID}/rulesets/phases/http_config_settings/entrypoint" in live.paths()
    assert "example-com-config-rules" not in out.read_text()
    assert "+ example-com-config-rules: zone example.com has no http_config_settings entry point" in stdout


def test_records_that_do_not_exist_are_left_for_up_and_two_addresses_on_one_host_block(
    live: FakeCloudflare, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    _, stdout, _, out = run_adopt(capsys, tmp_path)
    assert "+ shop-live-media-domain-media.example.com: no record for media.example.com" in stdout
    assert "! blog-live-blog.example.com: blog.example.com has 2 records (A 192.0.2.10, A 192.0.2.11)" in stdout
    assert "blog-live-blog.example.com" not in out.read_text()


@pytest.mark.parametrize("total_pages", [True, False], ids=["result_info total_pages", "until an empty page"])
def test_dns_records_are_read_over_every_page(
    live: FakeCloudflare, capsys: pytest.CaptureFixture[str], tmp_path: Path, total_pages: bool
) -> None:
    live.total_pages = total_pages
    code, _stdout, _, out = run_adopt(capsys, tmp_path)
    apex = [r for r in live.requests if r.path.endswith("/dns_records") and r.query["name.exact"] == ["example.com"]]
    assert [r.query.get("page", ["1"]) for r in apex] == ([["1"], ["2"]] if total_pages else [["1"], ["2"], ["3"]])
    assert code == 0 and json.loads(out.read_text()) == EXPECTED_LIVE_IMPORT


def test_a_rate_limited_request_is_retried(
    live: FakeCloudflare, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    entrypoint = f"/zones/{ZONE_ID}/rulesets/phases/http_request_cache_settings/entrypoint"
    live.rate_limited[entrypoint] = 1
    code, _, _, out = run_adopt(capsys, tmp_path)
    assert live.paths().count(entrypoint) == 2
    assert code == 0 and json.loads(out.read_text()) == EXPECTED_LIVE_IMPORT


def test_an_api_error_exits_3_with_cloudflares_message(
    live: FakeCloudflare, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    live.failing[f"/zones/{ZONE_ID}/pagerules"] = (403, cloudflare_error(10000, "Authentication error"))
    code, _, stderr, out = run_adopt(capsys, tmp_path)
    assert code == 3
    assert "HTTP 403: Authentication error (code 10000)" in stderr
    assert not out.exists()


@pytest.mark.parametrize(
    "path,status,body,said",
    [
        (
            f"/zones/{ZONE_ID}/rulesets/phases/http_request_cache_settings/entrypoint",
            404,
            cloudflare_error(7003, "Could not route to /zones/x, perhaps your object identifier is invalid?"),
            "reading the http_request_cache_settings entry point of zone 023e105f4ecef8ad9ca31a8372d0c353: HTTP 404: "
            "Could not route to /zones/x, perhaps your object identifier is invalid? (code 7003)",
        ),
        (
            f"/zones/{ZONE_ID}/rulesets/phases/http_request_cache_settings/entrypoint",
            403,
            cloudflare_error(10000, "Authentication error"),
            "HTTP 403: Authentication error (code 10000)",
        ),
        (
            f"/zones/{ZONE_ID}/dns_records",
            400,
            cloudflare_error(9106, "Missing X-Auth-Key"),
            "listing the DNS records of example.com in zone 023e105f4ecef8ad9ca31a8372d0c353: HTTP 400: "
            "Missing X-Auth-Key (code 9106)",
        ),
        (f"/zones/{ZONE_ID}/cloud_connector/rules", 400, {"success": False}, "Cloud Connector rules of zone"),
        (
            f"/zones/{ZONE_ID}/pagerules",
            200,
            "<html>502 Bad Gateway</html>",
            "unexpected answer from the Cloudflare API at /client/v4/zones/023e105f4ecef8ad9ca31a8372d0c353/pagerules",
        ),
    ],
)
def test_every_read_reports_cloudflares_error_and_exits_3(
    live: FakeCloudflare,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    path: str,
    status: int,
    body: dict[str, Any] | str,
    said: str,
) -> None:
    live.failing[path] = (status, body)
    code, _, stderr, _ = run_adopt(capsys, tmp_path)
    assert code == 3 and said in stderr and DUMMY_TOKEN not in stderr


def test_a_zone_lookup_error_exits_3(
    cloudflare_api: FakeCloudflare, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    cloudflare_api.failing["/zones"] = (400, cloudflare_error(1001, "Invalid zone name"))
    raw = raw_config()
    raw["zones"]["example.com"] = {"account_id": "f037e56e89293a057740de681ac9abbe"}
    code, _, stderr, _ = run_adopt(capsys, tmp_path, cwd=project_dir(tmp_path, live=raw))
    assert code == 3 and "looking up zone example.com: HTTP 400: Invalid zone name (code 1001)" in stderr


def test_an_unreachable_api_exits_3(
    cloudflare_api: FakeCloudflare, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.setattr("appcdn.cloudflare_api.MAX_RETRIES", 0)
    monkeypatch.setenv("CLOUDFLARE_BASE_URL", "http://127.0.0.1:9/client/v4")  # discard port: nothing listens
    code, _, stderr, _ = run_adopt(capsys, tmp_path)
    assert code == 3 and "cannot reach the Cloudflare API" in stderr


def test_missing_credentials_exit_3(
    cloudflare_api: FakeCloudflare, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.delenv("CLOUDFLARE_API_TOKEN")
    code, _, stderr, _ = run_adopt(capsys, tmp_path)
    assert code == 3 and "set CLOUDFLARE_API_TOKEN" in stderr
    assert cloudflare_api.requests == []


def test_an_invalid_config_exits_2_before_any_request(
    cloudflare_api: FakeCloudflare, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    project = project_dir(tmp_path, live=raw_config(plan="gold"))
    code, _, stderr, _ = run_adopt(capsys, tmp_path, cwd=project)
    assert code == 2 and "zones.example.com.plan" in stderr
    assert cloudflare_api.requests == []
    code, _, stderr, _ = run_adopt(capsys, tmp_path, stack="staging", cwd=project)
    assert code == 2 and "no stack 'staging'" in stderr


def test_what_the_rules_do_today_is_shown_next_to_what_ours_will_do(
    live: FakeCloudflare, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    _, stdout, _, _ = run_adopt(capsys, tmp_path)
    lines = stdout.splitlines()
    blog_row = next(
        line
        for line in lines
        if "/blog/* (existing rule 'blog 2h')" in line and line.lstrip().startswith("www.example.com, example.com")
    )
    assert "cached, edge 2h, browser zone setting (4h default)" in blog_row  # no browser TTL in that rule
    assert blog_row.rstrip().endswith("cached, edge origin, else bypass, browser origin")
    static_row = next(
        line for line in lines if line.lstrip().startswith("www.example.com, example.com") and " /static/* " in line
    )
    assert "Cloudflare default (static extensions)" in static_row and "cached, edge 365d, browser origin" in static_row
    office = next(line for line in lines if line.lstrip().startswith("blog.example.com") and "any path" in line)
    assert 'not evaluated: (http.host eq "blog.example.com" and ip.src eq 192.0.2.1)' in office


def test_page_rules_that_touch_caching_are_listed_with_the_rule_of_ours_that_replaces_them(
    live: FakeCloudflare, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    _, stdout, _, _ = run_adopt(capsys, tmp_path)
    assert "*example.com/blog/* [cache_level=cache_everything, edge_cache_ttl=7200] (active)" in stdout
    assert (
        f"blog.example.com/blog/x, example.com/blog/x, www.example.com/blog/x: replaced by "
        f"{refs_for('www.example.com', '/blog/x')} → cached, edge origin, else bypass, browser origin" in stdout
    )
    assert f"test.example.com/blog/x: replaced by {refs_for('test.example.com', '/blog/x')} → bypassed" in stdout
    assert "browser_check" not in stdout  # not a caching setting


def test_a_stack_that_does_not_own_the_zone_reads_only_its_dns_records(
    live: FakeCloudflare, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, _, _, out = run_adopt(capsys, tmp_path, stack="test")
    assert code == 0
    assert {r.path for r in live.requests} == {f"/zones/{ZONE_ID}/dns_records"}
    assert json.loads(out.read_text()) == {
        "resources": [
            {"type": "appcdn:index:AppHosts", "name": "shop-test", "component": True},
            {
                "type": "cloudflare:index/dnsRecord:DnsRecord",
                "name": "shop-test-test.example.com",
                "id": f"{ZONE_ID}/rec-test",
                "parent": "shop-test",
            },
        ]
    }


def test_an_entry_point_that_is_not_the_zones_own_is_not_claimed(
    live: FakeCloudflare, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    live.zones[ZONE_ID]["entrypoints"]["http_request_cache_settings"]["kind"] = "managed"
    _, stdout, _, out = run_adopt(capsys, tmp_path)
    assert "example-com-cache-rules" not in out.read_text()
    assert "is of kind 'managed', not a zone entry point; it is not claimed" in stdout


def test_a_zone_the_stack_would_create_is_imported_when_it_exists(
    cloudflare_api: FakeCloudflare, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    cloudflare_api.zones["9a7806061c88ada191ed06f989cc3dac"] = {"name": "example.com", "records": []}
    raw = raw_config()
    raw["zones"]["example.com"] = {"account_id": "f037e56e89293a057740de681ac9abbe", "plan": "pro"}
    code, stdout, _, out = run_adopt(capsys, tmp_path, cwd=project_dir(tmp_path, live=raw))
    assert code == 0
    assert json.loads(out.read_text())["resources"][:2] == [
        {"type": "appcdn:index:Zone", "name": "example-com", "component": True},
        {
            "type": "cloudflare:index/zone:Zone",
            "name": "example-com-zone",
            "id": "9a7806061c88ada191ed06f989cc3dac",
            "parent": "example-com",
        },
    ]
    assert "+ shop-live-www.example.com: no record for www.example.com" in stdout


def test_a_zone_that_does_not_exist_yet_is_left_for_up(
    cloudflare_api: FakeCloudflare, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    raw = raw_config()
    raw["zones"]["example.com"] = {"account_id": "f037e56e89293a057740de681ac9abbe"}
    code, stdout, _, out = run_adopt(capsys, tmp_path, cwd=project_dir(tmp_path, live=raw))
    assert code == 0 and json.loads(out.read_text()) == {"resources": []}
    assert "+ zone example.com: does not exist (pulumi up creates it)" in stdout


def test_every_imported_resource_is_one_the_program_declares_under_the_same_parent(
    live: FakeCloudflare, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from appcdn.program.stack_program import declare as declare_program

    _, _, _, out = run_adopt(capsys, tmp_path)
    loaded = load_stack(ROOT, "live", "adopt")
    assert loaded is not None
    own, project, compiled = loaded
    declared = declare(lambda: declare_program(project, compiled), own.config)
    for entry in json.loads(out.read_text())["resources"]:
        resource = declared[entry["name"]]
        assert (resource.type, resource.parent) == (entry["type"], entry.get("parent"))


def test_urns_are_pulumis_parent_type_chain() -> None:
    assert (
        urn("live", "appcdn", "appcdn:index:Zone", "cloudflare:index/ruleset:Ruleset", "example-com-cache-rules")
        == "urn:pulumi:live::appcdn::appcdn:index:Zone$cloudflare:index/ruleset:Ruleset::example-com-cache-rules"
    )
    assert (
        urn("live", "appcdn", None, "appcdn:index:Zone", "example-com")
        == "urn:pulumi:live::appcdn::appcdn:index:Zone::example-com"
    )


def test_the_default_import_file_is_written_in_the_project(
    cloudflare_api: FakeCloudflare, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    cloudflare_api.zones[ZONE_ID] = {"name": "example.com", "entrypoints": {}, "records": []}
    project = project_dir(tmp_path, live=raw_config())
    code, stdout, _ = appcdn(capsys, "adopt", "--stack", "live", cwd=project)
    assert code == 0
    assert json.loads((project / "adopt.live.json").read_text()) == {"resources": []}
    assert f"pulumi import --file {project / 'adopt.live.json'}" in stdout


def test_cloud_connector_rules_are_read_only_where_we_declare_some(
    cloudflare_api: FakeCloudflare, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    cloudflare_api.zones[ZONE_ID] = {
        "name": "example.com",
        "entrypoints": {},
        "connector": copy.deepcopy(CONNECTOR_RULES),
        "records": [],
    }
    run_adopt(capsys, tmp_path, cwd=project_dir(tmp_path, live=raw_config()))
    assert not any(p.endswith("/cloud_connector/rules") for p in cloudflare_api.paths())


def test_an_entry_point_that_executes_another_ruleset_says_up_stops_executing_it(
    live: FakeCloudflare, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    rules = live.zones[ZONE_ID]["entrypoints"]["http_request_cache_settings"]["rules"]
    rules.append(
        {
            "id": "r4",
            "version": "1",
            "enabled": True,
            "expression": "true",
            "action": "execute",
            "action_parameters": {"id": "4814384a9e5d4991b9815dcfc25d2f1f"},
        }
    )
    _, stdout, _, _ = run_adopt(capsys, tmp_path)
    assert (
        f"entry point 'default' with 4 rules; pulumi up replaces them with ours ({len(shipped_rules().cache)} "
        "rules) and stops executing ruleset 4814384a9e5d4991b9815dcfc25d2f1f"
    ) in stdout


def test_a_zone_without_cloud_connector_rules_leaves_ours_for_up(
    live: FakeCloudflare, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    live.zones[ZONE_ID]["connector"] = []
    _, stdout, _, out = run_adopt(capsys, tmp_path)
    assert "+ example-com-cloud-connector: zone example.com has no Cloud Connector rules" in stdout
    assert "example-com-cloud-connector" not in out.read_text()
