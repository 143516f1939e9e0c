"""Header reconcile on Azure Blob, against Azurite over real HTTP (tests/emulators.py): every blob ends up
with its first-matching rule's headers, every other content setting as it was, and no blob is read alone."""

from __future__ import annotations

import gzip
import hashlib
import uuid
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from azure.storage.blob import BlobServiceClient, ContainerClient, ContentSettings

from appcdn.config.media import HeaderRule
from appcdn.media_sync.clients import blob_service
from appcdn.media_sync.engine import sync_store
from appcdn.runtime.azure_blobs import AzureContainer
from appcdn.runtime.header_rules import RuleBook
from tests.loopback_proxy import Throttle, loopback_proxy

ONE_YEAR = "public, max-age=31536000"
ONE_HOUR = "public, max-age=3600"
RULES = RuleBook(
    [
        HeaderRule(match="filer_public_thumbnails/*", cache_control=ONE_YEAR),
        HeaderRule(match="documents/*", cache_control="private, no-store", content_disposition="attachment"),
        HeaderRule(match="*", cache_control=ONE_HOUR),
    ]
)
SERVER_BUSY = (
    b'<?xml version="1.0" encoding="utf-8"?><Error><Code>ServerBusy</Code>'
    b"<Message>The server is busy.</Message></Error>"
)


@pytest.fixture
def container(azurite_blob: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[ContainerClient]:
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", azurite_blob)
    client = BlobServiceClient.from_connection_string(azurite_blob).create_container(f"c{uuid.uuid4().hex[:12]}")
    yield client
    client.delete_container()


def engine_container(name: str, **options: Any) -> ContainerClient:
    client: ContainerClient = blob_service(None, 4, **options).get_container_client(name)
    return client


def counted(name: str) -> tuple[ContainerClient, Counter[str]]:
    """The engine's own client; every HTTP request it sends is counted (azure-core's per-request hook):
    ``list`` for listings, ``read`` for any per-blob GET or HEAD, ``write`` for a Set Blob Properties."""
    requests: Counter[str] = Counter()

    def hook(request: Any) -> None:
        http = request.http_request
        if "comp=list" in http.url:
            requests["list"] += 1
        elif http.method in ("GET", "HEAD"):
            requests["read"] += 1
        else:
            requests["write"] += 1

    return engine_container(name, raw_request_hook=hook), requests


def upload(container: ContainerClient, name: str, data: bytes = b"x", **settings: Any) -> None:
    container.upload_blob(name, data, overwrite=True, content_settings=ContentSettings(**settings))


def settings_of(container: ContainerClient, name: str) -> ContentSettings:
    settings: ContentSettings = container.get_blob_client(name).get_blob_properties().content_settings
    return settings


def sync(container: ContainerClient, client: ContainerClient | None = None, dry_run: bool = False) -> Any:
    store = AzureContainer(client or engine_container(container.container_name), served=True)
    return sync_store(store, RULES, dry_run=dry_run, workers=4)


def test_every_blob_gets_its_first_matching_rule_even_with_spaces_unicode_and_plus(container: ContainerClient) -> None:
    keys = [
        "filer_public_thumbnails/2026/a b+c.jpg__400x300.jpg",
        "filer_public/ünïcødé €/naïve+1.png",
        "documents/with space/contract+v2.pdf",
    ]
    for key in keys:
        upload(container, key)
    report = sync(container)
    assert (report.scanned, report.changed, report.failed) == (3, 3, 0)
    assert settings_of(container, keys[0]).cache_control == ONE_YEAR
    assert settings_of(container, keys[1]).cache_control == ONE_HOUR
    document = settings_of(container, keys[2])
    assert (document.cache_control, document.content_disposition) == ("private, no-store", "attachment")
    assert report.rules[1].served_changed == [
        "/" + container.container_name + "/documents/with%20space/contract%2Bv2.pdf"
    ]


def test_every_other_content_setting_metadata_and_tags_are_preserved(container: ContainerClient) -> None:
    data = gzip.compress(b"<svg/>" * 200)
    key = "filer_public/logo.svg"
    upload(
        container,
        key,
        data,
        content_type="image/svg+xml",
        content_encoding="gzip",
        content_language="de",
        content_disposition="inline",
        cache_control="max-age=60",
        content_md5=bytearray(hashlib.md5(data).digest()),
    )
    blob = container.get_blob_client(key)
    blob.set_blob_metadata({"origin": "upload"})
    blob.set_blob_tags({"team": "web"})
    before = blob.get_blob_properties()
    sync(container)
    after = blob.get_blob_properties()
    assert after.content_settings.cache_control == ONE_HOUR
    for field in ("content_type", "content_encoding", "content_language", "content_disposition", "content_md5"):
        assert getattr(after.content_settings, field) == getattr(before.content_settings, field), field
    assert after.metadata == {"origin": "upload"} and after.size == before.size
    assert blob.get_blob_tags() == {"team": "web"}
    assert blob.download_blob(decompress=False).readall() == data


def test_blobs_already_right_cost_no_read_and_no_write(container: ContainerClient) -> None:
    upload(container, "filer_public_thumbnails/x.jpg", cache_control=ONE_YEAR)
    upload(container, "documents/b.pdf", cache_control="private, no-store", content_disposition="attachment")
    upload(container, "old.txt", cache_control="max-age=1")
    client, requests = counted(container.container_name)
    report = sync(container, client)
    assert (report.changed, report.unchanged) == (1, 2)
    assert requests == Counter({"list": 1, "write": 1})  # the listing carries every content setting
    client, requests = counted(container.container_name)
    assert sync(container, client).changed == 0
    assert requests == Counter({"list": 1})


def test_a_dry_run_counts_and_writes_nothing(container: ContainerClient) -> None:
    for i in range(4):
        upload(container, f"filer_public_thumbnails/{i}.jpg")
    client, requests = counted(container.container_name)
    report = sync(container, client, dry_run=True)
    assert report.rules[0].changed == 4 and len(report.rules[0].examples) == 3
    assert requests == Counter({"list": 1})
    assert settings_of(container, "filer_public_thumbnails/0.jpg").cache_control is None


@pytest.mark.parametrize("status", [429, 503])
def test_throttling_is_retried_with_backoff(
    container: ContainerClient, azurite_blob: str, status: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    for i in range(5):
        upload(container, f"filer_public/{i}.jpg")
    endpoint = azurite_blob.split("BlobEndpoint=")[1].rstrip(";")
    origin = endpoint.rsplit("/", 1)[0]
    throttle = Throttle(count=3, status=status, body=SERVER_BUSY)
    with loopback_proxy(origin, throttle=throttle) as (url, _):
        monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", azurite_blob.replace(origin, url))
        report = sync(container)
    assert throttle.answered == 3
    assert (report.changed, report.failed) == (5, 0)
    assert all(settings_of(container, f"filer_public/{i}.jpg").cache_control == ONE_HOUR for i in range(5))


def test_a_blob_replaced_after_the_listing_is_read_again_not_given_stale_settings(container: ContainerClient) -> None:
    upload(container, "filer_public/a.jpg", content_type="image/jpeg")
    store = AzureContainer(engine_container(container.container_name))
    listed = next(store.listing())
    upload(container, "filer_public/a.jpg", content_type="image/png")  # a new upload meanwhile
    assert store.reconcile(listed, RULES.rules[2], dry_run=False)
    after = settings_of(container, "filer_public/a.jpg")
    assert (after.content_type, after.cache_control) == ("image/png", RULES.rules[2].cache_control)
