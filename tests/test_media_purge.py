"""Purging what a header run changed on a media domain: by prefix where a whole rule's served objects changed,
by URL otherwise, batched within Cloudflare's per-request limits, 429 retried; checked against a loopback
server speaking Cloudflare's API envelopes (tests/cloudflare_fake.py)."""

from __future__ import annotations

import io
import uuid
from pathlib import Path
from typing import Any

import boto3
import pytest

from appcdn.config.media import HeaderRule
from appcdn.media_sync.purge import PurgePlan, purge, purge_plan
from appcdn.media_sync.report import Outcome, SyncReport
from appcdn.runtime.header_rules import RuleBook
from tests.cloudflare_fake import FakeCloudflare, cloudflare_error
from tests.conftest import ZONE_ID, appcdn, project_dir, raw_config

BOOK = RuleBook(
    [
        HeaderRule(match="filer_public_thumbnails/*", cache_control="public, max-age=31536000"),
        HeaderRule(match="*", cache_control="public, max-age=3600"),
    ]
)


def report_of(changed: dict[str, bool], prefixes: dict[int, set[str]] | None = None) -> SyncReport:
    report = SyncReport()
    for key, did_change in changed.items():
        declared = BOOK.for_key(key)
        report.record(key, declared, Outcome.CHANGED if did_change else Outcome.UNCHANGED, "/" + key)
    for index, paths in (prefixes or {}).items():
        report.rules[index].purge_prefixes.update(paths)
    return report


def test_a_rule_whose_served_objects_all_changed_is_purged_by_prefix_others_by_url() -> None:
    report = report_of(
        {
            "filer_public_thumbnails/a.jpg": True,
            "filer_public_thumbnails/b.jpg": True,
            "filer_public/c.jpg": True,
            "filer_public/d.jpg": False,
        },
        {0: {"/filer_public_thumbnails/"}, 1: {"/filer_public/"}},
    )
    assert purge_plan(report, "media.example.com") == PurgePlan(
        urls=("https://media.example.com/filer_public/c.jpg",), prefixes=("media.example.com/filer_public_thumbnails/",)
    )


def test_nothing_changed_nothing_to_purge() -> None:
    assert not purge_plan(report_of({"filer_public/d.jpg": False}), "media.example.com")


def test_requests_stay_within_the_per_request_limits_of_the_plan() -> None:
    plan = PurgePlan(
        urls=tuple(f"https://m.example.com/{i}" for i in range(250)),
        prefixes=tuple(f"m.example.com/{i}/" for i in range(31)),
    )
    pro = list(plan.requests("pro"))
    assert [len(b.get("prefixes", b.get("files", []))) for b in pro] == [30, 1, 100, 100, 50]
    assert [len(b.get("files", [])) for b in plan.requests("enterprise")][-1] == 250


@pytest.fixture
def api(cloudflare_api: FakeCloudflare, monkeypatch: pytest.MonkeyPatch) -> FakeCloudflare:
    """The loopback Cloudflare API with the stack's zone, and a token."""
    cloudflare_api.zones[ZONE_ID] = {"name": "example.com"}
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", "token-1")
    return cloudflare_api


def test_rate_limited_purges_are_retried(api: FakeCloudflare) -> None:
    api.rate_limited[f"/zones/{ZONE_ID}/purge_cache"] = 2
    sent = purge(PurgePlan(urls=("https://m.example.com/a",)), "example.com", ZONE_ID, "pro", io.StringIO())
    assert sent == 1 and api.answered(429) == 2
    assert api.purges == [(ZONE_ID, {"files": ["https://m.example.com/a"]})]
    assert api.tokens() == {"Bearer token-1"}


@pytest.fixture
def bucket(s3_env: str) -> tuple[Any, str]:
    client = boto3.client("s3", endpoint_url=s3_env, region_name="us-east-1")
    name = f"media-{uuid.uuid4().hex[:12]}"
    client.create_bucket(Bucket=name)
    client.put_object(Bucket=name, Key="filer_public_thumbnails/a.jpg", Body=b"x")
    client.put_object(Bucket=name, Key="filer_public/c d+e.jpg", Body=b"x")
    client.put_object(Bucket=name, Key="filer_public/kept.jpg", Body=b"x", CacheControl="public, max-age=3600")
    client.put_object(Bucket=name, Key="filer_private/secret.pdf", Body=b"x")  # not served: never purged
    return client, name


def run(tmp_path: Path, capsys: pytest.CaptureFixture[str], bucket: str, **zone: Any) -> tuple[int, str, str]:
    stack = raw_config(
        media={
            "backend": "aws",
            "aws": {"region": "us-east-1", "bucket_name": bucket},
            "domain": {"host": "media.example.com"},
        }
    )
    stack["zones"]["example.com"] = {"plan": "pro", **zone}
    return appcdn(
        capsys, "media", "sync-headers", "--stack", "live", "--site", "shop", cwd=project_dir(tmp_path, live=stack)
    )


def test_the_command_purges_what_changed_on_the_media_domain(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], bucket: tuple[Any, str], api: FakeCloudflare
) -> None:
    api.rate_limited[f"/zones/{ZONE_ID}/purge_cache"] = 1
    code, out, err = run(tmp_path, capsys, bucket[1], id=ZONE_ID)
    assert code == 0, err
    assert [body for _, body in api.purges] == [  # prefixes first, then URLs (as the app writes them)
        {"prefixes": ["media.example.com/filer_public_thumbnails/"]},
        {"files": ["https://media.example.com/filer_public/c%20d%2Be.jpg"]},
    ]
    assert "purged on example.com: 1 prefix(es), 1 URL(s) in 2 request(s)" in out
    assert api.answered(429) == 1


def test_a_zone_created_by_the_stack_is_found_by_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], bucket: tuple[Any, str], api: FakeCloudflare
) -> None:
    api.zones = {"zone-by-name": {"name": "example.com"}}
    code, _, err = run(tmp_path, capsys, bucket[1], account_id="0123456789abcdef0123456789abcdef")
    assert code == 0, err
    assert {zone for zone, _ in api.purges} == {"zone-by-name"}


def test_a_refused_purge_exits_1_with_cloudflare_s_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], bucket: tuple[Any, str], api: FakeCloudflare
) -> None:
    api.failing[f"/zones/{ZONE_ID}/purge_cache"] = (403, cloudflare_error(10000, "Authentication error"))
    code, _, err = run(tmp_path, capsys, bucket[1], id=ZONE_ID)
    assert code == 1 and "Authentication error" in err
    assert "`appcdn media purge --stack <stack> --site shop` purges everything the rules cover" in err


# --- appcdn media purge: after an S3 Batch Operations job, which purges nothing itself ----------------------


def purge_command(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], *flags: str, **media: Any
) -> tuple[int, str, str]:
    stack = raw_config(media={"domain": {"host": "media.example.com"}, **media})
    return appcdn(
        capsys, "media", "purge", "--stack", "live", "--site", "shop", *flags, cwd=project_dir(tmp_path, live=stack)
    )


def test_purge_takes_every_served_prefix_the_rules_cover(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], api: FakeCloudflare
) -> None:
    code, out, err = purge_command(tmp_path, capsys, backend="aws", aws={"batch_operations": {}})
    assert code == 0, err
    # the thumbnails rule covers its own prefix; the catch-all covers every public prefix (and nothing private)
    assert api.purges == [
        (ZONE_ID, {"prefixes": ["media.example.com/filer_public/", "media.example.com/filer_public_thumbnails/"]})
    ]
    assert "purged on example.com: 2 prefix(es), 0 URL(s) in 1 request(s)" in out


def test_purge_on_azure_takes_the_public_container(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = purge_command(tmp_path, capsys, "--dry-run", backend="azure", azure={"account_name": "shopmedia"})
    assert code == 0
    assert "prefix media.example.com/public/filer_public_thumbnails/" in out
    assert "prefix media.example.com/public/\n" in out + "\n"


def test_purge_without_a_cached_media_domain_has_nothing_to_do(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stack = raw_config(media={"backend": "aws"})
    code, out, _ = appcdn(
        capsys, "media", "purge", "--stack", "live", "--site", "shop", cwd=project_dir(tmp_path, live=stack)
    )
    assert code == 0 and "nothing to purge" in out


def test_purge_when_no_rule_covers_a_public_object_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = purge_command(tmp_path, capsys, backend="aws", public_prefixes=[])
    assert code == 0 and "covers a publicly served object: nothing to purge" in out


def test_purge_of_an_unknown_site_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = appcdn(
        capsys,
        "media",
        "purge",
        "--stack",
        "live",
        "--site",
        "blog",
        cwd=project_dir(tmp_path, live=raw_config(media={"backend": "aws"})),
    )
    assert code == 2 and "appcdn media purge: stack live has no site 'blog'" in err
