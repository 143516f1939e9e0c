"""``appcdn verify``: the shipped live stack's behaviour table checked against a loopback edge that evaluates the
stack's planned rules (``tests/loopback_edge.py``), faithful and unfaithful in one way at a time.

The live stack's table (``appcdn plan --stack live --json``): 18 rows on example.com, which live owns: the test
hosts' rows (every app request bypassed, media cached), shop's and blog's bypass rows (admin, CMS editing,
session cookie, Authorization, other methods), their cached rows (static, sitemap, photos, feeds, the app's
pages where Django decides), the media hosts' rows.
"""

from __future__ import annotations

import datetime
import json
import os
import re
import ssl
import subprocess
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from appcdn.behaviour.table import behaviour_rows
from appcdn.commands.cli import load_stack
from appcdn.commands.verify.cases import MARKER, NOT_A_CREDENTIAL, NOT_A_SESSION
from appcdn.config.project import Project
from appcdn.rules.rulesets import ZoneRules
from tests.conftest import ROOT, appcdn, project_dir
from tests.loopback_edge import EdgeState, EdgeVariant, edge_state, loopback_edge


@pytest.fixture(scope="module")
def live() -> tuple[Project, dict[str, ZoneRules]]:
    loaded = load_stack(ROOT, "live", "verify")
    assert loaded is not None
    return loaded[1], loaded[2]


def verify(
    capsys: pytest.CaptureFixture[str], state: EdgeState, *args: str
) -> tuple[int, str, str, list[tuple[str, str, str, dict[str, str], int]]]:
    with loopback_edge(state) as url:
        code, out, err = appcdn(capsys, "verify", "--stack", "live", "--edge", url, "--rate", "50", *args)
    return code, out, err, state.log


def rows_json(
    capsys: pytest.CaptureFixture[str], live: tuple[Project, dict[str, ZoneRules]], variant: EdgeVariant | None = None
) -> tuple[int, list[dict[str, Any]]]:
    code, out, _, _ = verify(capsys, edge_state(*live, variant), "--json")
    return code, json.loads(out)


def key(row: dict[str, Any]) -> tuple[str, str, str]:
    return row["site"], row["stage"], row["outcome"]["cache"]


def disagreeing(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in rows if r["verdict"] == "disagrees"]


def whys(row: dict[str, Any]) -> str:
    return "\n".join(f"{c['request']}: {c['why']}" for c in row["checks"] if c["verdict"] == "disagrees")


def test_against_a_faithful_edge_every_row_agrees_and_verify_exits_0(
    capsys: pytest.CaptureFixture[str], live: tuple[Project, dict[str, ZoneRules]]
) -> None:
    code, out, err, log = verify(capsys, edge_state(*live))
    assert (code, err) == (0, "")
    assert out.splitlines()[-1] == "0 rows disagree (0 with a safety failure), 18 agree, 0 cannot tell."
    assert f"{len(log)} requests to http://127.0.0.1:" in out.splitlines()[0]
    assert "agrees: shop/live www.example.com, example.com /sitemap*.xml: cached" in out
    assert "    example: GET www.example.com/sitemap.xml?appcdn-verify=" in out
    assert "cached (MISS then HIT then MISS)" in out  # stored, answered from the cache, a new object per query


def test_json_gives_one_object_per_row_checked(
    capsys: pytest.CaptureFixture[str], live: tuple[Project, dict[str, ZoneRules]]
) -> None:
    code, rows = rows_json(capsys, live)
    assert code == 0
    assert len(rows) == len(behaviour_rows(*live)) == 18
    assert {r["verdict"] for r in rows} == {"agrees"}
    sitemap = next(r for r in rows if r["requests"].startswith("/sitemap*.xml"))
    assert sitemap["outcome"]["browser_ttl"] == "1h" and sitemap["hosts"] == ["www.example.com", "example.com"]
    assert [c["stands_for"] for c in sitemap["checks"]] == ["example", "example", "second path", "HEAD"]
    assert sitemap["sent"] == 11  # three requests each (first, repeat, key), HEAD twice


def test_an_edge_that_caches_everything_fails_with_the_safety_rows_first(
    capsys: pytest.CaptureFixture[str], live: tuple[Project, dict[str, ZoneRules]]
) -> None:
    code, out, _, _ = verify(capsys, edge_state(*live, EdgeVariant(everything=True)))
    assert code == 1
    headings = [line for line in out.splitlines() if line and not line.startswith(" ")][1:-1]
    assert headings[0].startswith("DISAGREES (safety): shop/live www.example.com, example.com /api/* or */admin")
    assert headings[1].startswith("DISAGREES (safety): blog/live blog.example.com */admin[/*] (any case)")
    assert '    Cookie contains "sessionid": GET www.example.com/?appcdn-verify=' in out
    assert "cookie sessionid: answered from the cache (cf-cache-status HIT, HTTP 200, age 120" in out
    code, rows = rows_json(capsys, live, EdgeVariant(everything=True))
    assert [key(r) for r in rows if r["safety_failure"]] == [("shop", "live", "bypassed"), ("blog", "live", "bypassed")]
    assert all(r["verdict"] == "disagrees" for r in rows if r["outcome"]["cache"] == "bypassed")
    cached = [r for r in rows if r["outcome"]["cache"] == "cached"]
    assert all(r["verdict"] == "disagrees" for r in cached)
    marked = [r for r in cached if not r["requests"].startswith("(/*/feed/*|/feed/*)")]  # query not in its key
    assert all("answered from the cache the first time, with this run's marker" in whys(r) for r in marked)


def test_an_edge_that_caches_nothing_fails_every_row_that_claims_caching(
    capsys: pytest.CaptureFixture[str], live: tuple[Project, dict[str, ZoneRules]]
) -> None:
    code, rows = rows_json(capsys, live, EdgeVariant(nothing=True))
    assert code == 1
    claims = [r for r in rows if r["outcome"]["cache"] == "cached"]
    assert len(claims) == 11
    assert disagreeing(rows) == claims
    assert not any(r["safety_failure"] for r in rows)
    app = next(r for r in claims if r["site"] == "shop" and r["requests"].startswith("method GET|HEAD, not /api/*"))
    assert "the row caches it (edge TTL origin, else bypass); the edge did not store it (cf-cache-status DYNAMIC" in (
        whys(app)
    )


def test_a_dropped_rule_is_named_by_the_requests_it_bypassed(
    capsys: pytest.CaptureFixture[str], live: tuple[Project, dict[str, ZoneRules]]
) -> None:
    code, rows = rows_json(capsys, live, EdgeVariant(drop=("shop-live-api",)))
    assert code == 1
    [row] = disagreeing(rows)
    assert key(row) == ("shop", "live", "bypassed") and not row["safety_failure"]
    assert whys(row).startswith("GET www.example.com/api/?appcdn-verify=")
    assert "stored in the cache (cf-cache-status MISS" in whys(row)


def test_the_admin_bypass_moved_before_a_user_rule_is_a_safety_failure(
    capsys: pytest.CaptureFixture[str], live: tuple[Project, dict[str, ZoneRules]]
) -> None:
    code, rows = rows_json(capsys, live, EdgeVariant(first=("shop-live-admin",)))
    assert code == 1
    [row] = disagreeing(rows)
    assert key(row) == ("shop", "live", "bypassed") and row["safety_failure"] and rows[0] == row
    failed = {c["stands_for"] for c in row["checks"] if c["verdict"] == "disagrees"}
    assert {
        "example",
        'Cookie contains "sessionid"',
        "header authorization",
        "?edit",
        "*/cms_wizard[/*] (any case)",
    } <= failed


def test_a_cache_key_that_ignores_the_query_is_named(
    capsys: pytest.CaptureFixture[str], live: tuple[Project, dict[str, ZoneRules]]
) -> None:
    code, rows = rows_json(capsys, live, EdgeVariant(key_ignores_query=True))
    assert code == 1
    static = next(r for r in rows if r["site"] == "shop" and r["requests"].startswith("/static/*"))
    assert "two requests differing only in ?appcdn-verify-key shared one object" in whys(static)
    feeds = next(r for r in rows if r["requests"].startswith("(/*/feed/*|/feed/*)"))
    assert feeds["verdict"] == "agrees"  # its key leaves the query out by design


def test_an_origin_that_sends_set_cookie_is_named_where_the_origin_decides(
    capsys: pytest.CaptureFixture[str], live: tuple[Project, dict[str, ZoneRules]]
) -> None:
    code, rows = rows_json(capsys, live, EdgeVariant(origin_sets_cookie=True))
    assert code == 0
    told = [r for r in rows if r["verdict"] == "cannot tell"]
    assert [(r["site"], r["requests"].split(",")[0]) for r in told] == [
        ("shop", "/media/photos/*"),
        ("shop", "method GET|HEAD"),
        ("blog", "method GET|HEAD"),
    ]
    assert all(
        c["why"] == 'the origin sent Set-Cookie (BYPASS), so "cached, origin decides" cannot be observed'
        for r in told
        for c in r["checks"]
    )


def test_a_zone_setting_changed_by_hand_is_named(
    capsys: pytest.CaptureFixture[str], live: tuple[Project, dict[str, ZoneRules]]
) -> None:
    code, rows = rows_json(capsys, live, EdgeVariant(zone_polish="off"))
    assert code == 1
    failed = disagreeing(rows)
    assert all(r["outcome"]["polish"] == "lossless" for r in failed) and len(failed) == 9
    assert "Polish lossless planned: a cached image came back without cf-polished" in whys(failed[0])
    photos = next(r for r in rows if r["requests"].startswith("/media/photos/*"))
    assert photos["verdict"] == "agrees"  # its configuration rule sets lossy, whatever the zone says


def test_requests_are_harmless_by_construction(
    capsys: pytest.CaptureFixture[str], live: tuple[Project, dict[str, ZoneRules]]
) -> None:
    _, _, _, log = verify(capsys, edge_state(*live, EdgeVariant(everything=True)))
    assert {method for method, *_ in log} == {"GET", "HEAD", "OPTIONS"}
    assert all(body == 0 and "content-length" not in headers for *_, headers, body in log)
    assert all(headers["user-agent"].startswith("appcdn-verify/") for *_, headers, _ in log)
    cookies = {headers["cookie"] for *_, headers, _ in log if "cookie" in headers}
    assert cookies == {f"sessionid={NOT_A_SESSION}"}
    assert {headers["authorization"] for *_, headers, _ in log if "authorization" in headers} == {NOT_A_CREDENTIAL}


def test_every_request_of_a_run_gets_its_own_marker_where_the_cache_key_keeps_the_query(
    capsys: pytest.CaptureFixture[str], live: tuple[Project, dict[str, ZoneRules]]
) -> None:
    _, _, _, log = verify(capsys, edge_state(*live))
    unmarked = {(host, target.split("?")[0]) for _, host, target, *_ in log if f"{MARKER}=" not in target}
    # the feeds' key leaves the query out; http.server reads the row's example //feed/ as /feed/
    assert unmarked == {("blog.example.com", p) for p in ("/feed/", "/feed/appcdn-verify", "/feed/appcdn-verify.jpg")}
    markers = [target.split(f"{MARKER}=")[1].split("&")[0] for _, _, target, *_ in log if f"{MARKER}=" in target]
    assert len({m.split(".")[0] for m in markers}) == 1  # one run


def test_max_requests_bounds_the_run_and_checks_the_safety_rows_first(
    capsys: pytest.CaptureFixture[str], live: tuple[Project, dict[str, ZoneRules]]
) -> None:
    code, out, _, log = verify(capsys, edge_state(*live, EdgeVariant(everything=True)), "--max-requests", "12")
    assert code == 1 and len(log) <= 12
    assert {host for _, host, *_ in log} == {"www.example.com", "example.com"}
    assert "not sent: --max-requests 12 reached" in out


def test_safety_only_sends_only_the_requests_that_must_never_be_cached(
    capsys: pytest.CaptureFixture[str], live: tuple[Project, dict[str, ZoneRules]]
) -> None:
    code, out, _, log = verify(capsys, edge_state(*live, EdgeVariant(first=("shop-live-admin",))), "--safety-only")
    assert code == 1
    assert all(
        "cookie" in headers
        or "authorization" in headers
        or "admin" in target.lower()
        or "cms_wizard" in target.lower()
        or any(f"?{a}" in target for a in ("edit", "preview", "structure", "toolbar_off"))
        for _, _, target, headers, _ in log
    )
    assert out.splitlines()[-1] == "1 row disagrees (1 with a safety failure), 1 agree, 0 cannot tell."


def test_nothing_reachable_exits_3(
    capsys: pytest.CaptureFixture[str], live: tuple[Project, dict[str, ZoneRules]]
) -> None:
    with loopback_edge(edge_state(*live)) as url:
        pass  # the port is closed again
    code, out, err = appcdn(capsys, "verify", "--stack", "live", "--edge", url, "--rate", "50", "--safety-only")
    assert code == 3
    assert err == f"appcdn verify: nothing reachable at {url} with each row's Host\n"
    assert "no answer (ConnectionRefusedError" in out or "no answer ([Errno 111] Connection refused)" in out


@pytest.mark.parametrize(
    "edge,message",
    [
        ("http://203.0.113.7", "plain HTTP only to a loopback address (127.0.0.1, ::1, localhost)"),
        ("ftp://127.0.0.1", "an http:// or https:// address, e.g. https://203.0.113.7"),
        ("https://edge.example.net/path", "a scheme, a host and a port only (no path, query or user)"),
    ],
)
def test_an_edge_address_verify_does_not_send_to_is_refused(
    capsys: pytest.CaptureFixture[str], edge: str, message: str
) -> None:
    code, out, err = appcdn(capsys, "verify", "--stack", "live", "--edge", edge)
    assert (code, out) == (2, "")
    assert err == f"appcdn verify: --edge {edge!r}: {message}\n"


def test_invalid_config_exits_2_with_its_place_and_sends_nothing(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    directory = project_dir(tmp_path, live="config:\n  appcdn:stage: live\n  appcdn:sites: 3\n")
    code, out, err = appcdn(capsys, "verify", "--stack", "live", "--edge", "http://127.0.0.1:9", cwd=directory)
    assert (code, out) == (2, "")
    assert "stacks/Pulumi.live.yaml:3:" in err and "sites" in err


def deploy_step(state: EdgeState, tmp_path: Path) -> tuple[int, str, str]:
    """``.github/scripts/verify-edge live`` as the deploy workflow runs it after ``pulumi up`` (here to the loopback
    edge): (exit code, stdout, the job summary)."""
    summary = tmp_path / "summary.md"
    summary.unlink(missing_ok=True)
    with loopback_edge(state) as url:
        done = subprocess.run(
            [str(ROOT / ".github" / "scripts" / "verify-edge"), "live", "--edge", url, "--rate", "50"],
            cwd=ROOT,
            env={**os.environ, "PATH": f"{ROOT / '.venv' / 'bin'}:/usr/bin:/bin", "GITHUB_STEP_SUMMARY": str(summary)},
            capture_output=True,
            text=True,
            check=False,
        )
    return done.returncode, done.stdout, summary.read_text()


def test_after_up_a_safety_failure_fails_the_deploy_job_and_the_report_is_in_the_summary(
    live: tuple[Project, dict[str, ZoneRules]], tmp_path: Path
) -> None:
    code, out, summary = deploy_step(edge_state(*live, EdgeVariant(first=("shop-live-admin",))), tmp_path)
    assert code == 1
    assert out.startswith("::error title=appcdn verify (live)::a request that must never be cached was cached")
    assert summary.startswith("### appcdn verify --stack live: exit 1\n\n- **disagrees** (safety): shop/live ")
    assert "  - GET www.example.com/?appcdn-verify=" in summary and "cookie sessionid: stored in the cache" in summary


def test_after_up_another_disagreement_is_a_warning_and_a_faithful_edge_passes(
    live: tuple[Project, dict[str, ZoneRules]], tmp_path: Path
) -> None:
    code, out, summary = deploy_step(edge_state(*live, EdgeVariant(drop=("shop-live-api",))), tmp_path)
    assert (code, out.split("::")[1]) == (0, "warning title=appcdn verify (live)")
    assert "- **disagrees**: shop/live www.example.com, example.com: bypassed" in summary
    code, out, summary = deploy_step(edge_state(*live), tmp_path)
    assert (code, out) == (0, "")
    assert summary.count("- **agrees**") == 18


def test_the_sample_report_in_the_docs_is_what_verify_prints(
    capsys: pytest.CaptureFixture[str], live: tuple[Project, dict[str, ZoneRules]]
) -> None:
    """docs/operations.md shows a shortened report of the live stack against an edge with the admin bypass
    moved first: each of its lines is a line of such a run (with that run's marker)."""
    docs = (ROOT / "docs" / "operations.md").read_text()
    [sample] = re.findall(r"```\n(appcdn verify --stack live: .*?)```", docs, re.S)
    _, out, _, _ = verify(capsys, edge_state(*live, EdgeVariant(first=("shop-live-admin",))))
    run = out.split("?appcdn-verify=", 1)[1].split(".", 1)[0]
    printed = out.replace(run, "13a00d6c").splitlines()
    heading, *lines = [line for line in sample.splitlines() if line]
    assert (
        heading.replace("each row's host over HTTPS", printed[0].split("requests to ")[1].split(" (")[0]) == printed[0]
    )
    assert [line for line in lines if line not in printed] == []


def test_objects_kept_beyond_the_planned_edge_ttl_are_named_by_their_age(
    capsys: pytest.CaptureFixture[str], live: tuple[Project, dict[str, ZoneRules]]
) -> None:
    code, rows = rows_json(capsys, live, EdgeVariant(age_offset=2 * 86400))  # e.g. a page rule's Edge Cache TTL
    assert code == 1
    failed = [(r["hosts"][0], r["requests"].split(",")[0], r["outcome"]["edge_ttl"]) for r in disagreeing(rows)]
    assert failed == [  # the rows whose edge TTL is shorter than two days
        ("media-test.example.com", "method GET|HEAD", "1h"),
        ("www.example.com", "/sitemap*.xml", "1h"),
        ("media.example.com", "method GET|HEAD", "1h"),
        ("blog.example.com", "(/*/feed/*|/feed/*)", "1h"),
    ]
    sitemap = next(r for r in rows if r["requests"].startswith("/sitemap*.xml"))
    assert "age 172800s is beyond the edge TTL 1h (cf-cache-status HIT" in whys(sitemap)


def test_a_cached_answer_that_carries_set_cookie_is_a_safety_failure(
    capsys: pytest.CaptureFixture[str], live: tuple[Project, dict[str, ZoneRules]]
) -> None:
    code, rows = rows_json(capsys, live, EdgeVariant(origin_sets_cookie=True, keeps_set_cookie=True))
    assert code == 1
    static = next(r for r in rows if r["site"] == "shop" and r["requests"].startswith("/static/*"))
    assert static["safety_failure"]
    assert [r["safety_failure"] for r in rows] == sorted((r["safety_failure"] for r in rows), reverse=True)
    assert "an answer from the cache carries Set-Cookie (cf-cache-status HIT" in whys(static)


def test_answers_that_did_not_pass_the_cache_cannot_tell(
    capsys: pytest.CaptureFixture[str], live: tuple[Project, dict[str, ZoneRules]]
) -> None:
    code, rows = rows_json(capsys, live, EdgeVariant(unproxied=True))  # a DNS record not proxied
    assert code == 0
    app = [r for r in rows if not r["hosts"][0].startswith(("media", "files"))]
    assert {r["verdict"] for r in app} == {"cannot tell"}
    assert all(
        c["why"].startswith("no cf-cache-status (")
        and c["why"].endswith("): the answer did not pass Cloudflare's cache")
        for r in app
        for c in r["checks"]
    )


def test_stored_media_objects_are_checked_against_their_header_rule(
    capsys: pytest.CaptureFixture[str], live: tuple[Project, dict[str, ZoneRules]]
) -> None:
    code, rows = rows_json(capsys, live, EdgeVariant(stale_objects=True))  # e.g. sync-headers never ran
    assert code == 1
    [files] = disagreeing(rows)
    assert files["hosts"] == ["files.example.com"] and files["outcome"]["cache"] == "bypassed"
    assert (
        "GET files.example.com/public/downloads/appcdn-verify?appcdn-verify=" in whys(files)
        and "the stored object's headers differ from its rule: Cache-Control public, max-age=86400 (its header rule "
        "'downloads/*': private, no-store); Content-Disposition absent (its header rule 'downloads/*': attachment)"
        in whys(files)
    )


def certificate(directory: Path) -> Path:
    """A self-signed certificate (and its key) for example.com and its subdomains, as one PEM file."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "example.com")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("example.com"), x509.DNSName("*.example.com")]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    pem = directory / "edge.pem"
    pem.write_bytes(
        cert.public_bytes(serialization.Encoding.PEM)
        + key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return pem


def tls_edge(pem: Path, names: list[str]) -> ssl.SSLContext:
    """The edge's side of TLS: this certificate, TLS 1.2 or later; records the server name each client asks for."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(pem)
    context.sni_callback = lambda sock, name, ctx: names.append(name)
    return context


def test_over_https_the_certificate_is_verified_for_the_rows_host(
    capsys: pytest.CaptureFixture[str],
    live: tuple[Project, dict[str, ZoneRules]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pem, names = certificate(tmp_path), list[str]()
    with loopback_edge(edge_state(*live), tls_edge(pem, names)) as url:
        code, out, err = appcdn(capsys, "verify", "--stack", "live", "--edge", url, "--rate", "50", "--safety-only")
    assert code == 3 and err == f"appcdn verify: nothing reachable at {url} with each row's Host\n"
    assert "CERTIFICATE_VERIFY_FAILED" in out  # not trusted: nothing is sent
    monkeypatch.setenv("SSL_CERT_FILE", str(pem))  # now trusted, as a real edge's certificate is
    names.clear()
    with loopback_edge(edge_state(*live), tls_edge(pem, names)) as url:
        code, out, err = appcdn(capsys, "verify", "--stack", "live", "--edge", url, "--rate", "50", "--safety-only")
    assert (code, err) == (0, "")
    assert set(names) == {"www.example.com", "example.com", "blog.example.com"}  # TLS for each row's host
