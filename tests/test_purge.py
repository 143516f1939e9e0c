"""Purge on change, in the app: what a save made stale is purged from Cloudflare's cache after the commit,
batched, at the plan's rate, through 429s; what fails is recorded and ``manage.py appcdn_purge --pending`` sends it.

End to end: a Django app on PostgreSQL, django-appcdn from its wheel, media on moto's S3, against the loopback
Cloudflare API; the exact purge requests are asserted."""

from __future__ import annotations

import json
import subprocess
import uuid
from pathlib import Path
from typing import Any

import boto3
import pytest

from appcdn_django.purge import Items, Pace
from appcdn_django.settings import AppSettingsError, purge_settings
from tests.app_venv import app_process_env
from tests.cloudflare_fake import DUMMY_TOKEN, FakeCloudflare, cloudflare_error
from tests.conftest import ROOT, ZONE_ID
from tests.test_django_media import exported_django_settings

PURGE_PATH = f"/zones/{ZONE_ID}/purge_cache"
MEDIA = "https://media.example.com/"
THUMBNAILS = "media.example.com/filer_public_thumbnails/"


def test_purge_is_off_unless_the_stack_says_on_and_then_needs_the_zone() -> None:
    assert purge_settings({}) == {"APPCDN_PURGE": False, "APPCDN_PURGE_ZONE_ID": "", "APPCDN_PURGE_PLAN": "free"}
    on = {"APPCDN_PURGE": "on", "CLOUDFLARE_ZONE_ID": ZONE_ID, "APPCDN_CLOUDFLARE_PLAN": "pro"}
    assert purge_settings(on) == {"APPCDN_PURGE": True, "APPCDN_PURGE_ZONE_ID": ZONE_ID, "APPCDN_PURGE_PLAN": "pro"}
    for env, message in [
        ({"APPCDN_PURGE": "on"}, "APPCDN_PURGE is on but CLOUDFLARE_ZONE_ID is not set: the zone to purge"),
        ({"APPCDN_PURGE": "yes"}, "APPCDN_PURGE must be on or off, not 'yes'"),
        ({"APPCDN_CLOUDFLARE_PLAN": "gold"}, "APPCDN_CLOUDFLARE_PLAN must be one of free, pro, business, enterprise"),
    ]:
        with pytest.raises(AppSettingsError) as refused:
            purge_settings(env)
        assert str(refused.value).startswith(message)


def test_requests_carry_at_most_100_urls_or_tags_and_30_prefixes_each_once() -> None:
    items = Items()
    items.add("files", [f"{MEDIA}{i}" for i in range(150)] + [f"{MEDIA}0"])
    items.add("prefixes", [f"media.example.com/{i}/" for i in range(31)])
    items.add("tags", ["page-1", "page-1"])
    assert [(kind, len(values)) for kind, values in items.requests()] == [
        ("files", 100),
        ("files", 50),
        ("tags", 1),
        ("prefixes", 30),
        ("prefixes", 1),
    ]


def test_the_pace_is_the_plans_rate_and_a_retry_after_pushes_it_back() -> None:
    now = [100.0]
    pace = Pace(12.0, clock=lambda: now[0])  # Free: 5 requests a minute
    assert pace.wait_needed() == 0
    pace.sent()
    now[0] += 2
    assert pace.wait_needed() == 10
    pace.sent(wait_after=30)
    assert pace.wait_needed() == 30


def purging_app_env(
    s3_endpoint: str, postgres_server: dict[str, str], cloudflare_api: FakeCloudflare
) -> dict[str, str]:
    """The environment of an app on PostgreSQL whose media go to a fresh bucket on moto, exported by the program
    for the domain media.example.com, with purge on (Enterprise pace, so the tests do not wait) through the
    loopback API."""
    bucket = f"media-{uuid.uuid4().hex[:12]}"
    boto3.client(
        "s3", endpoint_url=s3_endpoint, region_name="us-east-1", aws_access_key_id="t", aws_secret_access_key="t"
    ).create_bucket(Bucket=bucket)
    export = exported_django_settings(
        {
            "backend": "aws",
            "aws": {"region": "us-east-1", "bucket_name": bucket},
            "domain": {"host": "media.example.com"},
        }
    )
    cloudflare_api.zones[ZONE_ID] = {"name": "example.com"}
    return {
        "APPCDN_MEDIA_SETTINGS": json.dumps(export),
        "AWS_ENDPOINT_URL_S3": s3_endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "TEST_DATABASE": json.dumps(postgres_server),
        "APPCDN_PURGE": "on",
        "CLOUDFLARE_ZONE_ID": ZONE_ID,
        "APPCDN_CLOUDFLARE_PLAN": "enterprise",
        "CLOUDFLARE_BASE_URL": cloudflare_api.url,
        "CLOUDFLARE_API_TOKEN": DUMMY_TOKEN,
    }


def app_runner(python: Path, project: str, env: dict[str, str]) -> Any:
    """``tests/<project>/run.py COMMAND ARGS...`` in a Django process of the app's virtualenv (django-appcdn from
    its wheel), settings ``tests.<project>.settings``; the finished process."""

    def run(command: str, *args: str, **more: str) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [str(python), str(ROOT / "tests" / project / "run.py"), command, *args],
            env=app_process_env(python, f"tests.{project}.settings", {**env, **more}),
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr
        return done

    return run


@pytest.fixture
def app(app_python: Path, postgres_server: dict[str, str], s3_endpoint: str, cloudflare_api: FakeCloudflare) -> Any:
    """``tests/django_purge/run.py`` in the app's virtualenv, migrated."""
    run = app_runner(app_python, "django_purge", purging_app_env(s3_endpoint, postgres_server, cloudflare_api))
    run("migrate")
    return run


def test_a_deleted_public_file_is_purged_with_its_thumbnails_and_a_private_one_is_not(
    app: Any, cloudflare_api: FakeCloudflare
) -> None:
    names = ["filer_public/2026/07/a.jpg", "filer_public/2026/07/b c.jpg", "documents/c.pdf"]
    assert json.loads(app("save", *names).stdout) == names
    assert cloudflare_api.purges == []  # new names: nothing cached under them yet
    app("delete", *names)
    assert cloudflare_api.purges == [
        (ZONE_ID, {"files": [f"{MEDIA}filer_public/2026/07/a.jpg", f"{MEDIA}filer_public/2026/07/b%20c.jpg"]}),
        (
            ZONE_ID,
            {
                "prefixes": [
                    f"{THUMBNAILS}filer_public/2026/07/a.jpg__",
                    f"{THUMBNAILS}filer_public/2026/07/b%20c.jpg__",
                ]
            },
        ),
    ]
    assert cloudflare_api.tokens() == {f"Bearer {DUMMY_TOKEN}"}


def test_one_transaction_is_purged_in_batches_within_the_request_limits(
    app: Any, cloudflare_api: FakeCloudflare
) -> None:
    names = [f"filer_public/many/{i:03}.jpg" for i in range(101)]
    app("save", *names)
    app("delete", *names)
    assert [(kind, len(values)) for _, body in cloudflare_api.purges for kind, values in body.items()] == [
        ("files", 100),
        ("files", 1),
        ("prefixes", 30),
        ("prefixes", 30),
        ("prefixes", 30),
        ("prefixes", 11),
    ]
    assert cloudflare_api.purges[1][1] == {"files": [f"{MEDIA}filer_public/many/100.jpg"]}


def test_a_429_is_waited_out_and_the_request_sent_again(app: Any, cloudflare_api: FakeCloudflare) -> None:
    app("save", "filer_public/x.jpg")
    cloudflare_api.rate_limited[PURGE_PATH] = 2
    app("delete", "filer_public/x.jpg")
    assert [r.status for r in cloudflare_api.requests if r.path == PURGE_PATH] == [429, 429, 200, 200]
    assert cloudflare_api.purges == [
        (ZONE_ID, {"files": [f"{MEDIA}filer_public/x.jpg"]}),
        (ZONE_ID, {"prefixes": [f"{THUMBNAILS}filer_public/x.jpg__"]}),
    ]


def test_a_failing_api_keeps_the_save_and_records_the_purge_for_the_pending_command(
    app: Any, cloudflare_api: FakeCloudflare
) -> None:
    app("save", "filer_public/y.jpg")
    cloudflare_api.failing[PURGE_PATH] = (500, cloudflare_error(10000, "internal error"))
    deleted = app("delete", "filer_public/y.jpg")
    assert "appcdn purge: not purged (Cloudflare answered 500: internal error (code 10000))" in deleted.stderr
    assert DUMMY_TOKEN not in deleted.stderr
    pending = json.loads(app("pending").stdout)
    assert [(p["kind"], p["value"], p["attempts"]) for p in pending] == [
        ("files", f"{MEDIA}filer_public/y.jpg", 1),
        ("prefixes", f"{THUMBNAILS}filer_public/y.jpg__", 1),
    ]
    assert cloudflare_api.purges == []
    assert "still pending 2" in app("purge-pending").stdout  # still failing: kept, one more attempt
    assert [p["attempts"] for p in json.loads(app("pending").stdout)] == [2, 2]
    del cloudflare_api.failing[PURGE_PATH]
    assert "purged 2, still pending 0" in app("purge-pending").stdout
    assert json.loads(app("pending").stdout) == []
    assert cloudflare_api.purges == [
        (ZONE_ID, {"files": [f"{MEDIA}filer_public/y.jpg"]}),
        (ZONE_ID, {"prefixes": [f"{THUMBNAILS}filer_public/y.jpg__"]}),
    ]


def test_a_rate_limit_longer_than_the_app_waits_is_recorded_for_later(app: Any, cloudflare_api: FakeCloudflare) -> None:
    app("save", "filer_public/z.jpg")
    cloudflare_api.rate_limited[PURGE_PATH] = 1
    deleted = app("delete", "filer_public/z.jpg", TEST_PURGE_MAX_WAIT="0")
    assert "not purged (Cloudflare answered 429 and asks to wait" in deleted.stderr
    assert len(json.loads(app("pending").stdout)) == 2
