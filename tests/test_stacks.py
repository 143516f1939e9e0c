"""Both shipped stacks through the real program and the ``appcdn`` command (in-process; one subprocess smoke test)."""

import json
import runpy
import subprocess
import sys
from pathlib import Path

import pytest

from appcdn.commands.plan.mock_engine import DeclaredResource, run_under_mocks
from appcdn.config.project import load_project
from appcdn.config.pulumi_yaml.stack_files import SECRET_PLACEHOLDER, peer_sources, read_stack_file
from appcdn.program.stack_program import declare, export
from appcdn.rules.rulesets import compile_zones
from tests.conftest import ROOT, appcdn, project_dir, project_of, raw_config, test_stage

Plan = dict[str, DeclaredResource]
"""What a stack declares, by logical name."""


def planned(stack: str) -> Plan:
    """What the program declares for a shipped stack, parsed and compiled once, as ``appcdn plan`` does."""
    own = read_stack_file(ROOT, stack)
    project = load_project(own.source(), peer_sources(ROOT, stack))
    zones = compile_zones(project)
    return {
        r.name: r
        for r in run_under_mocks(
            lambda: export(declare(project, zones)), own.project, stack, own.config, own.secret_keys
        )
    }


@pytest.fixture(scope="module")
def live() -> Plan:
    return planned("live")


@pytest.fixture(scope="module")
def test_stack() -> Plan:
    return planned("test")


def test_live_owns_the_zone_settings_with_secure_baseline(live: Plan) -> None:
    settings = {
        r.inputs["settingId"]: r.inputs["value"]
        for r in live.values()
        if r.type == "cloudflare:index/zoneSetting:ZoneSetting"
    }
    assert settings == {
        "ssl": "strict",
        "min_tls_version": "1.2",
        "tls_1_3": "on",
        "always_use_https": "on",
        "automatic_https_rewrites": "on",
        "http3": "on",
        "polish": "lossless",
        "webp": "on",
    }


def test_live_composes_the_test_hosts_rules_from_the_test_stack_file(live: Plan) -> None:
    rules = live["example-com-cache-rules"].inputs["rules"]
    assert rules[0]["ref"] == "shop-test-admin"
    # Test's app hosts bypass everything; the uncached media domain files.example.com shares the rule.
    assert (
        rules[0]["expression"] == 'lower(http.host) in {"blog-test.example.com" "files.example.com" "test.example.com"}'
    )
    assert rules[0]["actionParameters"] == {"cache": False}
    assert len(rules) <= 25  # pro


def test_test_stack_only_adds_its_host_names_and_its_own_media(test_stack: Plan) -> None:
    cloudflare_types = {r.type for r in test_stack.values() if r.type.startswith("cloudflare:")}
    assert cloudflare_types == {"cloudflare:index/dnsRecord:DnsRecord"}
    names = sorted(r.inputs["name"] for r in test_stack.values() if "dnsRecord" in r.type)
    assert names == ["blog-test.example.com", "media-test.example.com", "test.example.com"]
    assert {r.inputs["zoneId"] for r in test_stack.values() if "dnsRecord" in r.type} == {
        "023e105f4ecef8ad9ca31a8372d0c353"
    }  # the id from the live stack file, its one home
    assert {"appcdn:index:S3Media", "appcdn:index:AzureMedia"} <= {r.type for r in test_stack.values()}


def test_a_zone_its_owner_creates_is_looked_up_by_name_from_the_other_stages() -> None:
    """The owner's file gives no id for a zone it creates (account_id): Test finds the zone by its name."""
    live = raw_config()
    live["zones"]["example.com"] = {"account_id": "f037e56e89293a057740de681ac9abbe", "plan": "pro"}
    project = project_of(test_stage(origin="shop-test.eu.aldryn.io"), live)
    resources = run_under_mocks(lambda: export(declare(project, compile_zones(project))), "appcdn", "test", {}, [])
    [record] = [r for r in resources if r.type == "cloudflare:index/dnsRecord:DnsRecord"]
    assert record.inputs["zoneId"] == "example.com-zone-id"  # the mock engine's getZone answer for that name
    assert not [r for r in resources if r.type.startswith("cloudflare:index/zone")]


def test_one_owner_per_zone_phase_across_the_shipped_stacks(live: Plan, test_stack: Plan) -> None:
    phases = [
        (r.inputs["zoneId"], r.inputs["phase"])
        for stack in (live, test_stack)
        for r in stack.values()
        if r.type == "cloudflare:index/ruleset:Ruleset"
    ]
    assert len(phases) == len(set(phases)) == 2


def test_secure_config_is_never_decrypted() -> None:
    files = read_stack_file(ROOT, "live")
    assert files.config["cloudflare:apiToken"] == SECRET_PLACEHOLDER
    assert files.secret_keys == ["cloudflare:apiToken"]


def test_plan_prints_the_tree_and_the_behaviour_table(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = appcdn(capsys, "plan", "--stack", "live")
    assert code == 0, err
    assert "appcdn:index:Zone  example-com" in out
    assert "cloudflare:index/ruleset:Ruleset  example-com-cache-rules" in out
    row = next(line for line in out.splitlines() if "/static/*" in line and "shop" in line)
    assert row.split()[4:10] == ["/static/*", "cached", "365d", "origin", "lossless", "deception"]
    assert (
        "zone example.com (pro plan): cache rules 11 of 25, configuration rules 1 of 25, "
        "Cloud Connector rules 3 of 25" in out
    )
    assert (
        "zone example.com: edge rules declared by this stack, composed from stacks/Pulumi.test.yaml, "
        "stacks/Pulumi.live.yaml" in out
    )
    assert "v1:" not in out


def test_plan_json_shape_and_byte_identical_runs(capsys: pytest.CaptureFixture[str]) -> None:
    first, second = (
        appcdn(capsys, "plan", "--stack", "live", "--json"),
        appcdn(capsys, "plan", "--stack", "live", "--json"),
    )
    assert first[0] == 0, first[2]
    assert first[1] == second[1]
    plan = json.loads(first[1])
    assert plan["stack"] == "live"
    for resource in plan["resources"]:
        assert set(resource) >= {"type", "name", "parent", "protect", "inputs"}
    assert {
        "site",
        "stage",
        "hosts",
        "requests",
        "covers",
        "example",
        "cache",
        "edge_ttl",
        "browser_ttl",
        "polish",
        "cache_key",
        "status_ttls",
        "serve_stale",
        "other",
    } == set(plan["cache_behaviour"][0])
    assert {(c["phase"], c["limit"]) for c in plan["rule_counts"]} == {
        ("cache rules", 25),
        ("configuration rules", 25),
        ("Cloud Connector rules", 25),
    }
    assert "v1:" not in first[1]


def test_plan_of_the_test_stack_shows_the_rules_live_deploys_for_it(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = appcdn(capsys, "plan", "--stack", "test")
    assert code == 0, err
    assert (
        "zone example.com: edge rules declared by the live stack (stacks/Pulumi.live.yaml), composed from "
        "stacks/Pulumi.test.yaml, stacks/Pulumi.live.yaml" in out
    )
    rows = [line.split()[:9] for line in out.splitlines() if line.split()[:2] == ["shop", "test"]]
    assert ["shop", "test", "test.example.com", "any", "request", "bypassed", "-", "-", "-"] in rows
    assert [
        "shop",
        "test",
        "media-test.example.com",
        "not",
        "/filer_public_thumbnails/*",
        "cached",
        "1h",
        "1h",
        "lossless",
    ] in rows
    assert "Rules deployed" not in out  # the live stack deploys them
    assert not [line for line in out.splitlines() if line.split()[1:2] == ["live"]]
    assert err == ""


def test_a_pr_that_changes_only_the_test_stack_file_shows_in_the_live_plan(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    test = (
        (ROOT / "stacks" / "Pulumi.test.yaml")
        .read_text()
        .replace(
            "        domain: {host: media-test.example.com}",
            "        domain: {host: media-test.example.com}\n        headers: [{match: '*', cache_control: no-store}]",
        )
    )
    project = project_dir(tmp_path, live=(ROOT / "stacks" / "Pulumi.live.yaml").read_text(), test=test)
    code, out, err = appcdn(capsys, "plan", "--stack", "live", cwd=project)
    assert code == 0, err
    [row] = [line for line in out.splitlines() if "media-test.example.com" in line]
    assert row.split()[4:7] == ["any", "request", "bypassed"]
    # the shipped test stack file gives 1h at the edge and in the browser


def test_invalid_config_exits_2_with_every_reason_and_no_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    live = (
        "config:\n"
        "  appcdn:zones:\n"
        "    example.com: {id: 023e105f4ecef8ad9ca31a8372d0c353, plan: free, images: {polish: lossy, mirage: true}}\n"
        "  appcdn:sites:\n"
        "    - {name: shop, zone: example.com, hosts: [www.example.org], colour: blue}\n"
    )
    project_dir(tmp_path, live=live)
    code, _, err = appcdn(capsys, "plan", "--stack", "live", cwd=tmp_path)
    assert code == 2
    assert "Traceback" not in err
    assert "stacks/Pulumi.live.yaml:5:65: sites[0].colour: unknown key" in err
    project_dir(tmp_path, live=live.replace(", colour: blue", ""))
    code, _, err = appcdn(capsys, "plan", "--stack", "live", cwd=tmp_path)
    assert code == 2
    assert err.splitlines()[1:] == [
        "  stacks/Pulumi.live.yaml:5:39: sites[0].hosts: 'www.example.org' is outside the site's zone example.com",
        "  stacks/Pulumi.live.yaml:3:93: zones.example.com.images.mirage: Mirage was retired by Cloudflare (deprecated "
        "November 2025, API end of life January 2026); use polish, or image transformations with "
        'loading="lazy" and srcset',
        "  stacks/Pulumi.live.yaml:3:78: zones.example.com.images.polish: Polish needs the pro plan or above; the zone "
        "is on free",
    ]


def test_a_broken_peer_file_stops_the_owners_plan_naming_that_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    test = (
        (ROOT / "stacks" / "Pulumi.test.yaml")
        .read_text()
        .replace("hosts: [test.example.com]", "hosts: [test.example.org]")
    )
    project = project_dir(tmp_path, live=(ROOT / "stacks" / "Pulumi.live.yaml").read_text(), test=test)
    code, _, err = appcdn(capsys, "plan", "--stack", "live", cwd=project)
    line = next(i for i, text in enumerate(test.splitlines(), 1) if "hosts: [test.example.org]" in text)
    assert code == 2
    assert (
        f"  stacks/Pulumi.test.yaml:{line}:7: sites[0].hosts: 'test.example.org' is outside the site's zone "
        "example.com" in err.splitlines()
    )


def test_main_runs_the_program_with_the_engines_config_and_the_peer_files() -> None:
    """What ``pulumi up`` runs: ``__main__.py`` reads this stack's config from the engine and the other stack
    files from disk; the result is the same as the offline plan's."""
    own = read_stack_file(ROOT, "test")
    declared = run_under_mocks(
        lambda: runpy.run_path(str(ROOT / "__main__.py"), run_name="__main__"),
        own.project,
        "test",
        own.config,
        own.secret_keys,
    )
    assert sorted(r.name for r in declared) == sorted(planned("test"))


def test_the_program_itself_refuses_invalid_config_without_a_traceback() -> None:
    """What ``pulumi preview`` runs: a config error ends the program with pulumi.RunError (no stack trace)."""
    import pulumi

    own = read_stack_file(ROOT, "live")
    own.config["appcdn:stage"] = "prod"
    with pytest.raises(pulumi.RunError, match=r"stacks/Pulumi.live.yaml: stage: 'prod' is not allowed"):
        run_under_mocks(
            lambda: runpy.run_path(str(ROOT / "__main__.py"), run_name="__main__"),
            own.project,
            "live",
            own.config,
            own.secret_keys,
        )


def test_unknown_stack_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = appcdn(capsys, "plan", "--stack", "prod")
    assert code == 2
    assert "no stack 'prod'" in err and "live, test" in err


def test_the_installed_command_plans_in_a_process_of_its_own_and_exits_cleanly() -> None:
    """No 'Exception ignored in BaseEventLoop.__del__' at exit: the event loop the SDK ran on is closed."""
    result = subprocess.run(
        [
            sys.executable,
            "-W",
            "always::ResourceWarning",
            "-m",
            "appcdn.commands.cli",
            "plan",
            "--stack",
            "test",
            "--cwd",
            str(ROOT),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "appcdn:index:S3Media  shop-test-media" in result.stdout
    assert "unclosed event loop" not in result.stderr and "Exception ignored" not in result.stderr


# --- security invariants over both shipped stacks -------------------------------------------------------

STACKS = ("live", "test")


@pytest.fixture(scope="module")
def both(live: Plan, test_stack: Plan) -> dict[str, Plan]:
    return {"live": live, "test": test_stack}


def test_no_bucket_policy_allows_public_write_or_list(both: dict[str, Plan]) -> None:
    for stack in both.values():
        for r in stack.values():
            if r.type != "aws:s3/bucketPolicy:BucketPolicy":
                continue
            for statement in json.loads(r.inputs["policy"])["Statement"]:
                if statement["Effect"] == "Allow":
                    assert statement["Action"] == "s3:GetObject"
                    assert all(
                        res.endswith(("filer_public/*", "filer_public_thumbnails/*")) for res in statement["Resource"]
                    )


def test_every_bucket_is_tls_only(both: dict[str, Plan]) -> None:
    buckets = [r for s in both.values() for r in s.values() if r.type == "aws:s3/bucket:Bucket"]
    policies = [
        json.loads(r.inputs["policy"])
        for s in both.values()
        for r in s.values()
        if r.type == "aws:s3/bucketPolicy:BucketPolicy"
    ]
    assert len(buckets) == len(policies) == 2
    for policy in policies:
        assert {"Effect": "Deny", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}.items() <= policy[
            "Statement"
        ][0].items()


def test_azure_accounts_are_https_only_tls12_and_private_containers_private(both: dict[str, Plan]) -> None:
    accounts = [r for s in both.values() for r in s.values() if r.type == "azure-native:storage:StorageAccount"]
    assert len(accounts) == 2
    for account in accounts:
        assert account.inputs["enableHttpsTrafficOnly"] is True
        assert account.inputs["minimumTlsVersion"] == "TLS1_2"
    for s in both.values():
        for r in s.values():
            if r.type == "azure-native:storage:BlobContainer":
                expected = {"public": "Blob", "private": "None"}[r.inputs["containerName"]]
                assert r.inputs["publicAccess"] == expected


MEDIA_DATA = (
    "aws:s3/bucket:Bucket",
    "azure-native:storage:StorageAccount",
    "azure-native:storage:BlobContainer",
    "azure-native:resources:ResourceGroup",
)


def test_live_media_survives_destroy_and_test_media_does_not_pretend_to(both: dict[str, Plan]) -> None:
    live_data = [r for r in both["live"].values() if r.type in MEDIA_DATA]
    assert len(live_data) == 5
    assert all(r.protect and r.retain_on_delete for r in live_data)
    assert not any(r.protect for r in both["test"].values() if r.type in MEDIA_DATA)


def test_media_domains_route_through_cloud_connector_on_the_owner(live: Plan) -> None:
    rules = live["example-com-cloud-connector"].inputs["rules"]
    assert [(r["cloudConnectorRulesProvider"], r["expression"], r["parameters"]["host"]) for r in rules] == [
        (
            "aws_s3",
            'lower(http.host) eq "media-test.example.com"',
            "example-shop-test-media.s3.eu-central-1.amazonaws.com",
        ),
        ("aws_s3", 'lower(http.host) eq "media.example.com"', "shop-live-media-bucket.s3.eu-central-1.amazonaws.com"),
        ("azure_storage", 'lower(http.host) eq "files.example.com"', "exampleblogmedia.blob.core.windows.net"),
    ]


def test_uncached_media_domain_is_stated_in_the_plan(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = appcdn(capsys, "plan", "--stack", "live")
    rows = [line.split() for line in out.splitlines() if line.split()[:1] == ["blog"] and "files.example.com" in line]
    assert rows and all("bypassed" in row for row in rows)


def test_uploaded_certificate_and_key_never_appear_in_the_plan(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project_dir(
        tmp_path,
        live="config:\n"
        "  appcdn:zones:\n"
        "    example.com: {id: 023e105f4ecef8ad9ca31a8372d0c353, plan: business}\n"
        "  appcdn:sites:\n"
        "    - name: shop\n"
        "      zone: example.com\n"
        "      hosts: [www.example.com]\n"
        "      certificates:\n"
        "        - name: own\n"
        "          mode: uploaded\n"
        "          hosts: [www.example.com]\n"
        "          certificate: {secure: v1:CIPHERTEXTCERT}\n"
        "          private_key: {secure: v1:CIPHERTEXTKEY}\n",
    )
    code, out, err = appcdn(capsys, "plan", "--stack", "live", "--json", cwd=tmp_path)
    assert code == 0, err
    [custom] = [r for r in json.loads(out)["resources"] if r["type"] == "cloudflare:index/customSsl:CustomSsl"]
    assert custom["inputs"]["certificate"] == custom["inputs"]["privateKey"] == "[secret]"
    assert "CIPHERTEXT" not in out + err


def test_media_on_the_provider_endpoint_gets_no_dns_record_and_no_connector_rule(live: Plan, test_stack: Plan) -> None:
    """blog's Test media has no custom domain: the app links to <account>.blob.core.windows.net directly."""
    assert not [r for r in test_stack.values() if r.type.endswith("DnsRecord") and "blog-test-media" in r.name]
    descriptions = [rule["description"] for rule in live["example-com-cloud-connector"].inputs["rules"]]
    assert "appcdn: blog/test/media" not in descriptions


def test_the_names_the_config_checks_for_collisions_are_the_names_the_program_declares(both: dict[str, Plan]) -> None:
    """appcdn.config.names predicts the records' logical names; the program and components must agree."""
    from appcdn.config.media import media_hosts
    from appcdn.config.names import declared_names

    for stage, declared in both.items():
        config = load_project(read_stack_file(ROOT, stage).source(), peer_sources(ROOT, stage)).config
        for site in config.sites:
            certificates = [(c.name, c.mode, c.hosts) for c in site.certificates]
            for kind, name, _ in declared_names(site.name, stage, site.hosts, media_hosts(site.media), certificates):
                if kind == "AppHosts" or name.endswith("-validation"):
                    assert declared[name].type == "cloudflare:index/dnsRecord:DnsRecord", name
