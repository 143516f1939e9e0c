"""The header reconcile during ``pulumi up``: one dynamic resource per site whose inputs are the header rules and
the store (so preview shows a change of rules), on by default, off with ``media.sync_headers_on_deploy: false``;
its provider reconciles on create and update, against moto's S3 server and Azurite."""

from __future__ import annotations

import uuid
from typing import Any

import boto3
import pytest
from azure.storage.blob import BlobServiceClient

from appcdn.media_sync.deploy import MediaHeadersProvider, target_of
from appcdn.program.stack_program import declare as declare_program
from appcdn.program.stack_program import export
from appcdn.rules.rulesets import compile_zones
from tests.cloudflare_fake import FakeCloudflare, cloudflare_error
from tests.conftest import ZONE_ID, declare, project_of, raw_config

DYNAMIC = "pulumi-python:dynamic/appcdn:MediaHeaders"
ONE_YEAR = "public, max-age=31536000"
ONE_HOUR = "public, max-age=3600"
RULES = [{"match": "filer_public_thumbnails/*", "cache_control": ONE_YEAR}, {"match": "*", "cache_control": ONE_HOUR}]


def planned(**media: Any) -> dict[str, Any]:
    project = project_of(raw_config(media={"backend": "aws", **media}))
    return declare(lambda: export(declare_program(project, compile_zones(project))), {"cloudflare:apiToken": "token"})


def test_each_site_s_media_gets_a_header_resource_whose_inputs_are_its_rules_and_store() -> None:
    resources = planned(aws={"bucket_name": "shop-media"}, domain={"host": "media.example.com"})
    sync = resources["shop-live-media-headers"]
    assert sync.type == DYNAMIC
    assert {k: v for k, v in sync.inputs.items() if k not in ("__provider", "cloudflare_api_token")} == {
        "backend": "aws",
        "bucket": "shop-media",
        "region": "eu-central-1",
        "public_prefixes": ["filer_public/", "filer_public_thumbnails/"],
        "rules": RULES,
        "media_host": "media.example.com",
        "zone": "example.com",
        "zone_id": ZONE_ID,
        "zone_plan": "pro",
    }
    assert sync.inputs["cloudflare_api_token"] == "[secret]"


def test_a_lower_multipart_threshold_reaches_the_deploy_run_and_the_default_adds_no_input() -> None:
    sync = planned(aws={"bucket_name": "shop-media", "multipart_threshold_mib": 64})["shop-live-media-headers"]
    assert sync.inputs["multipart_threshold"] == 64 * 1024**2
    props = {k: v for k, v in sync.inputs.items() if k != "__provider"}
    assert target_of(props).multipart_threshold == 64 * 1024**2  # type: ignore[union-attr]
    assert "multipart_threshold" not in planned(aws={"bucket_name": "shop-media"})["shop-live-media-headers"].inputs


def test_a_change_of_rules_is_a_change_of_inputs_so_preview_shows_it() -> None:
    before = planned()["shop-live-media-headers"].inputs["rules"]
    after = planned(headers=[{"match": "*", "cache_control": "public, max-age=60"}])["shop-live-media-headers"]
    assert after.inputs["rules"] != before
    provider = MediaHeadersProvider()
    olds = {"backend": "aws", "bucket": "b", "region": "r", "rules": before, "summary": {"changed": 1}}
    assert provider.diff("id", olds, {**olds, "rules": after.inputs["rules"]}).changes
    assert not provider.diff("id", olds, {**olds, "cloudflare_api_token": "rotated"}).changes


def test_the_stack_can_turn_it_off() -> None:
    assert "shop-live-media-headers" not in planned(sync_headers_on_deploy=False)


def test_azure_sites_reconcile_both_containers_and_only_the_public_one_is_served() -> None:
    project = project_of(raw_config(media={"backend": "azure", "azure": {"account_name": "shopmedia"}}))
    resources = declare(lambda: export(declare_program(project, compile_zones(project))))
    inputs = resources["shop-live-media-headers"].inputs
    assert (inputs["account"], inputs["containers"]) == ("shopmedia", [["private", False], ["public", True]])


@pytest.fixture
def s3(s3_env: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.delenv("CLOUDFLARE_API_TOKEN", raising=False)
    return boto3.client("s3", endpoint_url=s3_env, region_name="us-east-1")


def aws_props(bucket: str, **extra: Any) -> dict[str, Any]:
    return {
        "backend": "aws",
        "bucket": bucket,
        "region": "us-east-1",
        "public_prefixes": ["filer_public_thumbnails/"],
        "rules": RULES,
        **extra,
    }


def test_create_and_update_reconcile_the_bucket(s3: Any) -> None:
    bucket = f"media-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="filer_public_thumbnails/a.jpg", Body=b"x", ContentType="image/jpeg")
    s3.put_object(Bucket=bucket, Key="doc.pdf", Body=b"x")
    provider = MediaHeadersProvider()
    created = provider.create(aws_props(bucket))
    assert created.outs is not None and created.outs["summary"] == {
        "scanned": 2,
        "changed": 2,
        "unchanged": 0,
        "failed": 0,
    }
    assert s3.head_object(Bucket=bucket, Key="filer_public_thumbnails/a.jpg")["CacheControl"] == ONE_YEAR
    new_rules = [{"match": "*", "cache_control": "public, max-age=60"}]
    updated = provider.update(created.id, created.outs, aws_props(bucket, rules=new_rules))
    assert updated.outs is not None and updated.outs["summary"]["changed"] == 2
    head = s3.head_object(Bucket=bucket, Key="filer_public_thumbnails/a.jpg")
    assert (head["CacheControl"], head["ContentType"]) == ("public, max-age=60", "image/jpeg")
    assert (
        provider.update(created.id, updated.outs, aws_props(bucket, rules=new_rules)).outs["summary"][  # type: ignore[index]
            "changed"
        ]
        == 0
    )
    provider.delete(created.id, updated.outs)  # nothing stored changes
    assert s3.head_object(Bucket=bucket, Key="doc.pdf")["CacheControl"] == "public, max-age=60"


def test_a_failed_object_fails_the_update_so_the_next_up_runs_it_again(s3: Any) -> None:
    bucket = f"media-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="cold.txt", Body=b"x", StorageClass="GLACIER")
    with pytest.raises(RuntimeError, match=r"failed 1"):
        MediaHeadersProvider().create(aws_props(bucket))


def test_what_changed_is_purged_even_when_another_object_failed(s3: Any, cloudflare_api: FakeCloudflare) -> None:
    """The next up finds the changed objects right and would never purge them."""
    bucket = f"media-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="cold.txt", Body=b"x", StorageClass="GLACIER")
    s3.put_object(Bucket=bucket, Key="filer_public_thumbnails/a.jpg", Body=b"x")
    cloudflare_api.zones[ZONE_ID] = {"name": "example.com"}
    with pytest.raises(RuntimeError, match=r"failed 1.*purged on example\.com"):
        MediaHeadersProvider().create(
            aws_props(
                bucket,
                media_host="media.example.com",
                zone="example.com",
                zone_id=ZONE_ID,
                zone_plan="pro",
                cloudflare_api_token="t",
            )
        )
    assert cloudflare_api.purges == [(ZONE_ID, {"prefixes": ["media.example.com/filer_public_thumbnails/"]})]


def test_a_refused_purge_fails_the_update_and_says_how_to_purge_later(s3: Any, cloudflare_api: FakeCloudflare) -> None:
    bucket = f"media-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="filer_public_thumbnails/a.jpg", Body=b"x")
    cloudflare_api.failing[f"/zones/{ZONE_ID}/purge_cache"] = (403, cloudflare_error(10000, "Authentication error"))
    with pytest.raises(RuntimeError, match=r"1 object.s. changed but not purged.*appcdn media purge"):
        MediaHeadersProvider().create(
            aws_props(
                bucket,
                media_host="media.example.com",
                zone="example.com",
                zone_id=ZONE_ID,
                zone_plan="pro",
                cloudflare_api_token="t",
            )
        )


def test_changed_served_objects_are_purged_with_the_stack_s_token(s3: Any, cloudflare_api: FakeCloudflare) -> None:
    bucket = f"media-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="filer_public_thumbnails/a.jpg", Body=b"x")
    cloudflare_api.zones[ZONE_ID] = {"name": "example.com"}
    outs = (
        MediaHeadersProvider()
        .create(
            aws_props(
                bucket,
                media_host="media.example.com",
                zone="example.com",
                zone_id=ZONE_ID,
                zone_plan="pro",
                cloudflare_api_token="stack-token",
            )
        )
        .outs
    )
    assert cloudflare_api.purges == [(ZONE_ID, {"prefixes": ["media.example.com/filer_public_thumbnails/"]})]
    assert cloudflare_api.tokens() == {"Bearer stack-token"}
    assert outs is not None and "1 prefix(es)" in outs["purged"]


def test_without_a_token_what_would_be_purged_is_reported_in_the_outputs(s3: Any) -> None:
    bucket = f"media-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="filer_public_thumbnails/a.jpg", Body=b"x")
    outs = MediaHeadersProvider().create(aws_props(bucket, media_host="media.example.com", zone="example.com")).outs
    assert outs is not None and outs["purged"].startswith("not purged (no Cloudflare token)")


def test_the_provider_reconciles_azure_containers(azurite_blob: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", azurite_blob)
    service = BlobServiceClient.from_connection_string(azurite_blob)
    names = [f"p{uuid.uuid4().hex[:10]}", f"q{uuid.uuid4().hex[:10]}"]
    for name in names:
        service.create_container(name).upload_blob("filer_public_thumbnails/t.jpg", b"x")
    outs = (
        MediaHeadersProvider()
        .create(
            {
                "backend": "azure",
                "account": "devstoreaccount1",
                "rules": RULES,
                "containers": [[names[0], False], [names[1], True]],
            }
        )
        .outs
    )
    assert outs is not None and outs["summary"]["changed"] == 2
    for name in names:
        settings = service.get_blob_client(name, "filer_public_thumbnails/t.jpg").get_blob_properties().content_settings
        assert settings.cache_control == ONE_YEAR


def test_the_provider_is_serialized_by_reference_and_loads_in_a_fresh_process() -> None:
    """Pulumi ships a dynamic provider to its provider host pickled (dill); ours travels as a reference to
    ``appcdn.media_sync.deploy``, so the host needs appcdn installed (it runs in the program's virtualenv)."""
    import os
    import subprocess
    import sys

    from pulumi.dynamic.dynamic import serialize_provider

    from tests.conftest import ROOT

    blob = serialize_provider(MediaHeadersProvider())
    assert len(blob) < 200  # a reference, not the code
    load = (
        "import base64, dill, sys; provider = dill.loads(base64.b64decode(sys.stdin.read())); "
        "print(type(provider).__module__, provider.diff('id', {'rules': [1]}, {'rules': [2]}).changes)"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", load],
        input=blob,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=60,
    )
    assert loaded.stdout.split() == ["appcdn.media_sync.deploy", "True"], loaded.stderr


def test_a_listing_that_fails_fails_the_update_and_what_changed_before_is_still_purged(
    azurite_blob: str, monkeypatch: pytest.MonkeyPatch, cloudflare_api: FakeCloudflare
) -> None:
    from appcdn.media_sync import clients
    from tests.loopback_proxy import Throttle, loopback_proxy

    monkeypatch.setattr(clients, "MAX_BACKOFF_SECONDS", 0.05)
    service = BlobServiceClient.from_connection_string(azurite_blob)
    names = [f"p{uuid.uuid4().hex[:10]}", f"q{uuid.uuid4().hex[:10]}"]
    for name in names:
        service.create_container(name).upload_blob("filer_public_thumbnails/t.jpg", b"x")
    cloudflare_api.zones[ZONE_ID] = {"name": "example.com"}
    origin = azurite_blob.split("BlobEndpoint=")[1].rstrip(";").rsplit("/", 1)[0]
    never = Throttle(count=100, status=503, methods=("GET",), path_contains=f"{names[1]}?restype=container&comp=list")
    with loopback_proxy(origin, throttle=never) as (url, _):
        monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", azurite_blob.replace(origin, url))
        with pytest.raises(RuntimeError, match=rf"changed 1, .*listing devstoreaccount1/{names[1]} failed.*purged on"):
            MediaHeadersProvider().create(
                {
                    "backend": "azure",
                    "account": "devstoreaccount1",
                    "rules": RULES,
                    "containers": [[names[0], True], [names[1], True]],
                    "media_host": "media.example.com",
                    "zone": "example.com",
                    "zone_id": ZONE_ID,
                    "zone_plan": "pro",
                    "cloudflare_api_token": "t",
                }
            )
    assert never.answered == 10
    [(zone, purged)] = cloudflare_api.purges  # the blob written before the listing failed is covered
    assert zone == ZONE_ID and f"media.example.com/{names[0]}/filer_public_thumbnails/" in purged["prefixes"]
