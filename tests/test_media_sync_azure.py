"""Header reconcile on Azure Blob, against Azurite over real HTTP (tests/emulators.py): every blob ends up
with its first-matching rule's headers, every other content setting as it was, and no blob is read alone."""

from __future__ import annotations

import gzip
import hashlib
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from azure.storage.blob import BlobServiceClient, ContainerClient, ContentSettings

from appcdn.config.media import HeaderRule
from appcdn.media_sync import clients
from appcdn.media_sync.clients import ATTEMPTS, blob_service
from appcdn.media_sync.engine import ListingError, sync_store
from appcdn.media_sync.purge import purge_plan
from appcdn.runtime.azure_blobs import AzureContainer
from appcdn.runtime.header_rules import RuleBook
from tests.loopback_proxy import Faults, Throttle, loopback_proxy

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


INTERNAL = (
    b'<?xml version="1.0" encoding="utf-8"?><Error><Code>InternalError</Code>'
    b"<Message>The server encountered an internal error.</Message></Error>"
)


@pytest.fixture
def through_proxy(container: ContainerClient, azurite_blob: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Route the engine's client through a loopback proxy; waits between attempts shortened (their number is
    what these tests count)."""
    monkeypatch.setattr(clients, "MAX_BACKOFF_SECONDS", 0.05)
    endpoint = azurite_blob.split("BlobEndpoint=")[1].rstrip(";")
    origin = endpoint.rsplit("/", 1)[0]

    @contextmanager
    def route(**options: Any) -> Iterator[Any]:
        with loopback_proxy(origin, **options) as (url, state):
            monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", azurite_blob.replace(origin, url))
            yield state

    return route


def test_a_write_applied_but_its_answer_lost_counts_as_changed_and_is_purged(
    container: ContainerClient, through_proxy: Any
) -> None:
    upload(container, "filer_public/a.jpg")
    upload(container, "filer_public/b.jpg", cache_control=ONE_HOUR)
    lost = Faults(rate=1.0, statuses={}, kinds=("reset-after",), methods=("PUT",), limit=1)
    with through_proxy(faults=lost) as state:
        report = sync(container)
    assert lost.injected == {"reset-after": 1}
    # the write landed; the SDK sent it again and met 412 (the ETag had changed), the blob was read again
    assert [status for method, _, status in state.answered if method == "PUT"] == [200, 412]
    assert (report.changed, report.unchanged, report.failed) == (1, 1, 0)
    assert purge_plan(report, "media.example.com").urls == (
        f"https://media.example.com/{container.container_name}/filer_public/a.jpg",
    )


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [("GET", "comp=list", 503), ("PUT", "comp=properties", 503), ("PUT", "comp=properties", 429)],
)
def test_listing_and_writes_get_the_ten_attempts_the_docs_state(
    container: ContainerClient, through_proxy: Any, method: str, path: str, status: int
) -> None:
    """The storage SDK stops after 3 retries of one kind unless each kind's budget is set too."""
    upload(container, "filer_public/a.jpg")
    nine = Throttle(count=ATTEMPTS - 1, status=status, body=SERVER_BUSY, methods=(method,), path_contains=path)
    with through_proxy(throttle=nine):
        assert sync(container).changed == 1
    assert nine.answered == ATTEMPTS - 1
    upload(container, "filer_public/a.jpg")
    ten = Throttle(count=ATTEMPTS, status=status, body=SERVER_BUSY, methods=(method,), path_contains=path)
    with through_proxy(throttle=ten):
        if method == "GET":
            with pytest.raises(ListingError):
                sync(container)
        else:
            assert sync(container).failed == 1
    assert ten.answered == ATTEMPTS


@pytest.mark.parametrize("kind", ["reset-before", "reset-after"])
def test_a_listing_whose_connections_are_reset_gets_ten_attempts_too(
    container: ContainerClient, through_proxy: Any, kind: str
) -> None:
    upload(container, "filer_public/a.jpg")
    nine = Faults(rate=1.0, statuses={}, kinds=(kind,), methods=("GET",), path_contains="comp=list", limit=9)
    with through_proxy(faults=nine):
        assert sync(container).changed == 1
    ten = Faults(rate=1.0, statuses={}, kinds=(kind,), methods=("GET",), path_contains="comp=list", limit=10)
    with through_proxy(faults=ten), pytest.raises(ListingError):
        sync(container)
    assert (nine.injected, ten.injected) == ({kind: 9}, {kind: 10})


def test_a_listing_that_never_succeeds_says_what_failed_and_what_to_do(
    container: ContainerClient, through_proxy: Any
) -> None:
    upload(container, "filer_public/a.jpg")
    never = Throttle(count=ATTEMPTS, status=503, body=SERVER_BUSY, methods=("GET",), path_contains="comp=list")
    with through_proxy(throttle=never), pytest.raises(ListingError) as error:
        sync(container)
    message = str(error.value)
    assert message.startswith(
        f"listing devstoreaccount1/{container.container_name} failed, so the objects past that point were not "
        "reached: HttpResponseError 503 ServerBusy: The server is busy. Each request"
    )
    assert "each request is tried up to 10 times" in message.lower() and "then run again" in message
    assert "<?xml" not in message and "\n" not in message


def test_under_injected_faults_every_blob_written_is_counted_changed_and_purged(
    container: ContainerClient, through_proxy: Any
) -> None:
    """Three requests in ten fail: 503, 500 or 429 answered by the proxy, a reset before the request reaches
    Azurite or after Azurite applied it, or a delay."""
    for i in range(48):
        upload(container, f"filer_public/{i:02}.jpg", cache_control=ONE_HOUR if i % 4 == 0 else None)
    faults = Faults(rate=0.3, statuses={503: SERVER_BUSY, 500: INTERNAL, 429: b""})
    with through_proxy(faults=faults) as state:
        report = sync(container)
    assert faults.injected["reset-after"] and len({kind.split()[0] for kind in faults.injected}) == 4, faults
    written = {
        path.split("?")[0].split("/", 3)[3]
        for method, path, status in state.answered
        if method == "PUT" and "comp=properties" in path and status == 200
    }
    assert any(method == "PUT" and status == 412 for method, _, status in state.answered)  # a lost answer
    assert len(written) == 36 and report.failed == 0
    assert report.changed == len(written)
    urls = set(purge_plan(report, "media.example.com").urls)
    assert {f"https://media.example.com/{container.container_name}/{key}" for key in written} <= urls
    assert all(settings_of(container, f"filer_public/{i:02}.jpg").cache_control == ONE_HOUR for i in range(48))
