"""Header reconcile on S3, against moto's S3 server over real HTTP (tests/emulators.py): every object ends up
carrying its first-matching rule's headers, and nothing else about it changes."""

from __future__ import annotations

import functools
import gzip
import os
import urllib.parse
import uuid
from collections import Counter
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from appcdn.config.media import HeaderRule
from appcdn.media_sync.clients import s3_client
from appcdn.media_sync.engine import sync_store
from appcdn.media_sync.purge import purge_plan
from appcdn.runtime.header_rules import RuleBook
from appcdn.runtime.s3_objects import MiB, S3Bucket, S3Options, part_ranges
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
WRITES = {"CopyObject", "CreateMultipartUpload", "UploadPartCopy", "CompleteMultipartUpload", "PutObjectAcl"}
SLOW_DOWN = (
    b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code>'
    b"<Message>Please reduce your request rate.</Message></Error>"
)


@pytest.fixture
def bucket(s3_env: str) -> Iterator[str]:
    name = f"media-{uuid.uuid4().hex[:12]}"
    client = boto3.client("s3", endpoint_url=s3_env, region_name="us-east-1")
    client.create_bucket(Bucket=name)
    client.put_bucket_ownership_controls(
        Bucket=name, OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    )
    yield name


def counting_client(region: str = "us-east-1", workers: int = 4) -> tuple[Any, Counter[str]]:
    """The engine's own client, with every API call it makes counted by operation (botocore event hook)."""
    client = s3_client(region, workers)
    calls: Counter[str] = Counter()
    client.meta.events.register("before-call.s3", lambda model, **_: calls.update([model.name]))
    return client, calls


@functools.cache
def direct(endpoint: str) -> Any:
    """A plain client straight to moto, for setting up and checking (not counted, not throttled)."""
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def put(bucket: str, key: str, body: bytes = b"x", **params: Any) -> None:
    direct(os.environ["AWS_ENDPOINT_URL_S3"]).put_object(Bucket=bucket, Key=key, Body=body, **params)


def head(bucket: str, key: str) -> dict[str, Any]:
    return dict(direct(os.environ["AWS_ENDPOINT_URL_S3"]).head_object(Bucket=bucket, Key=key))


def sync(bucket: str, client: Any = None, dry_run: bool = False, **options: Any) -> Any:
    store = S3Bucket(
        client or s3_client("us-east-1", 4), bucket, ["filer_public/", "filer_public_thumbnails/"], S3Options(**options)
    )
    return sync_store(store, RULES, dry_run=dry_run, workers=4)


AWKWARD_KEYS = [
    "filer_public_thumbnails/2026/a b+c.jpg__400x300.jpg",
    "filer_public/ünïcødé €/naïve+1.png",
    "documents/with space/contract+v2.pdf",
    "plain",
]


def test_every_key_gets_its_first_matching_rule_even_with_spaces_unicode_and_plus(bucket: str) -> None:
    for key in AWKWARD_KEYS:
        put(bucket, key)
    report = sync(bucket)
    assert (report.scanned, report.changed, report.unchanged, report.failed) == (4, 4, 0, 0)
    assert head(bucket, AWKWARD_KEYS[0])["CacheControl"] == ONE_YEAR
    assert head(bucket, AWKWARD_KEYS[1])["CacheControl"] == ONE_HOUR
    document = head(bucket, AWKWARD_KEYS[2])
    assert (document["CacheControl"], document["ContentDisposition"]) == ("private, no-store", "attachment")
    assert head(bucket, "plain")["CacheControl"] == ONE_HOUR


def test_everything_but_the_declared_headers_is_preserved(bucket: str) -> None:
    body = gzip.compress(b"body { color: red }" * 100)
    key = "filer_public/site.css"
    put(
        bucket,
        key,
        body,
        ContentType="text/css; charset=utf-8",
        ContentEncoding="gzip",
        ContentLanguage="de",
        ContentDisposition="inline",
        Metadata={"origin": "upload", "author": "jane"},
        Tagging="team=web&kind=style",
        StorageClass="STANDARD_IA",
        CacheControl="max-age=60",
        WebsiteRedirectLocation="/elsewhere",
    )
    before = head(bucket, key)
    sync(bucket)
    after = head(bucket, key)
    assert after["CacheControl"] == ONE_HOUR
    for field in (
        "ContentType",
        "ContentEncoding",
        "ContentLanguage",
        "ContentDisposition",
        "Metadata",
        "StorageClass",
        "ContentLength",
        "WebsiteRedirectLocation",
    ):
        assert after.get(field) == before.get(field), field
    client = s3_client("us-east-1", 1)
    assert client.get_object(Bucket=bucket, Key=key)["Body"].read() == body
    assert client.get_object_tagging(Bucket=bucket, Key=key)["TagSet"] == [
        {"Key": "team", "Value": "web"},
        {"Key": "kind", "Value": "style"},
    ]


def test_an_object_already_right_costs_one_head_and_no_write(bucket: str) -> None:
    put(bucket, "filer_public_thumbnails/x.jpg", CacheControl=ONE_YEAR)
    put(bucket, "documents/b.pdf", CacheControl="private, no-store", ContentDisposition="attachment")
    put(bucket, "old.txt", CacheControl="max-age=1")
    client, calls = counting_client()
    report = sync(bucket, client)
    assert (report.changed, report.unchanged) == (1, 2)
    assert calls == Counter({"GetBucketOwnershipControls": 1, "ListObjectsV2": 1, "HeadObject": 3, "CopyObject": 1})


def test_a_second_run_writes_nothing(bucket: str) -> None:
    for i in range(30):
        put(bucket, f"filer_public_thumbnails/{i}.jpg")
        put(bucket, f"other/{i}.txt", CacheControl="no-cache")
    assert sync(bucket).changed == 60
    client, calls = counting_client()
    report = sync(bucket, client)
    assert (report.scanned, report.changed, report.unchanged) == (60, 0, 60)
    assert not WRITES & set(calls) and calls["HeadObject"] == 60


def test_a_dry_run_counts_per_rule_with_examples_and_writes_nothing(bucket: str) -> None:
    for i in range(5):
        put(bucket, f"filer_public_thumbnails/{i}.jpg")
    put(bucket, "documents/b.pdf", CacheControl="private, no-store", ContentDisposition="attachment")
    client, calls = counting_client()
    report = sync(bucket, client, dry_run=True)
    assert not WRITES & set(calls)
    assert report.rules[0].changed == 5 and len(report.rules[0].examples) == 3
    assert set(report.rules[0].examples) < {f"filer_public_thumbnails/{i}.jpg" for i in range(5)}
    assert report.rules[1].unchanged == 1
    lines = report.lines()
    assert lines[0] == (
        f"  rule 0 'filer_public_thumbnails/*' (Cache-Control: {ONE_YEAR}): would change 5, unchanged 0, failed 0"
    )
    assert lines[-1] == "scanned 6, would change 5, unchanged 1, failed 0"
    assert "CacheControl" not in head(bucket, "filer_public_thumbnails/0.jpg")


def test_objects_above_the_threshold_are_copied_in_ranged_parts(bucket: str) -> None:
    body = bytes(range(256)) * (12 * MiB // 256 + 3)  # 12 MiB and a bit: three parts of 5 MiB, 5 MiB, 2 MiB+
    key = "filer_public/video.mp4"
    put(bucket, key, body, ContentType="video/mp4", Metadata={"a": "1"}, Tagging="k=v", ChecksumAlgorithm="SHA256")
    read = head(bucket, key)["ETag"]
    client, calls = counting_client()
    completes: list[dict[str, Any]] = []
    client.meta.events.register(
        "before-call.s3.CompleteMultipartUpload", lambda params, **_: completes.append(params["headers"])
    )
    report = sync(bucket, client, multipart_threshold=5 * MiB, part_size=5 * MiB)
    assert report.changed == 1 and report.failed == 0
    # completed only over the object read: one replaced during the copy is left as it is (S3 answers 412)
    assert [c["If-Match"] for c in completes] == [read]
    assert calls["UploadPartCopy"] == 3 and calls["CompleteMultipartUpload"] == 1 and "CopyObject" not in calls
    after = s3_client("us-east-1", 1).get_object(Bucket=bucket, Key=key)
    assert after["Body"].read() == body
    assert (after["CacheControl"], after["ContentType"], after["Metadata"]) == (ONE_HOUR, "video/mp4", {"a": "1"})
    assert s3_client("us-east-1", 1).get_object_tagging(Bucket=bucket, Key=key)["TagSet"] == [
        {"Key": "k", "Value": "v"}
    ]
    assert "ChecksumSHA256" in s3_client("us-east-1", 1).head_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")


def test_part_ranges_cover_every_byte_within_s3_part_limits() -> None:
    assert part_ranges(12 * MiB, 5 * MiB) == [(0, 5 * MiB - 1), (5 * MiB, 10 * MiB - 1), (10 * MiB, 12 * MiB - 1)]
    assert part_ranges(10, 1) == [(0, 9)]  # never below 5 MiB
    huge = 5 * 1024**4  # 5 TiB, S3's largest object: at most 10 000 parts
    ranges = part_ranges(huge, 5 * MiB)
    assert len(ranges) <= 10_000 and ranges[-1][1] == huge - 1


def test_acl_grants_are_carried_over_where_acls_are_in_use(s3_env: str) -> None:
    name = f"legacy-{uuid.uuid4().hex[:12]}"
    client = s3_client("us-east-1", 1)
    client.create_bucket(Bucket=name)  # no ownership controls: ACLs count
    put(name, "filer_public/a.jpg", ACL="public-read")
    store = S3Bucket(s3_client("us-east-1", 1), name)
    assert store.acls_in_use
    assert sync_store(store, RULES, workers=1).changed == 1
    grants = client.get_object_acl(Bucket=name, Key="filer_public/a.jpg")["Grants"]
    assert {
        "Grantee": {"Type": "Group", "URI": "http://acs.amazonaws.com/groups/global/AllUsers"},
        "Permission": "READ",
    } in grants
    assert head(name, "filer_public/a.jpg")["CacheControl"] == ONE_HOUR


def test_throttling_is_retried_with_backoff_until_every_object_is_done(
    bucket: str, s3_env: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for i in range(6):
        put(bucket, f"filer_public/{i}.jpg")
    throttle = Throttle(count=3, status=503, body=SLOW_DOWN)
    with loopback_proxy(s3_env, throttle=throttle) as (url, _state):
        monkeypatch.setenv("AWS_ENDPOINT_URL_S3", url)
        report = sync(bucket)
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", s3_env)
    assert throttle.answered == 3
    assert (report.changed, report.failed) == (6, 0)
    assert all(head(bucket, f"filer_public/{i}.jpg")["CacheControl"] == ONE_HOUR for i in range(6))


def test_one_failing_object_is_counted_and_the_others_still_change(bucket: str) -> None:
    put(bucket, "filer_public/ok.jpg")
    put(bucket, "filer_public/archived.jpg", StorageClass="GLACIER")
    report = sync(bucket)
    assert (report.changed, report.failed) == (1, 1)
    assert report.failures[0][0] == "filer_public/archived.jpg"


def test_kms_encryption_is_carried_over(bucket: str, s3_env: str) -> None:
    kms = boto3.client("kms", endpoint_url=s3_env, region_name="us-east-1")
    key = kms.create_key()["KeyMetadata"]["Arn"]
    put(bucket, "filer_public/secret.jpg", ServerSideEncryption="aws:kms", SSEKMSKeyId=key)
    sync(bucket)
    after = head(bucket, "filer_public/secret.jpg")
    assert (after["CacheControl"], after["ServerSideEncryption"], after["SSEKMSKeyId"]) == (ONE_HOUR, "aws:kms", key)


def test_every_copy_is_conditional_on_the_etag_its_head_read(
    bucket: str, s3_env: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for i in range(3):
        put(bucket, f"filer_public/{i}.jpg", f"body {i}".encode())
    etags = {f"filer_public/{i}.jpg": head(bucket, f"filer_public/{i}.jpg")["ETag"] for i in range(3)}
    with loopback_proxy(s3_env) as (url, state):
        monkeypatch.setenv("AWS_ENDPOINT_URL_S3", url)
        sync(bucket)
    copies = {path: headers for method, path, headers in state.log if "x-amz-copy-source" in headers}
    assert len(copies) == 3
    for path, headers in copies.items():
        key = path.split("/", 2)[2]
        assert headers["x-amz-copy-source-if-match"] == etags[urllib.parse.unquote(key)]


def test_an_object_replaced_between_head_and_copy_is_read_again_not_overwritten_with_stale_metadata(
    bucket: str, s3_env: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """S3 refuses the copy with 412 PreconditionFailed (the loopback proxy holds moto's copies to their
    condition), and the reconcile reads the new object and copies that one."""
    key = "filer_public/raced.jpg"
    put(bucket, key, b"old", ContentType="image/jpeg")
    replaced: list[bool] = []

    def replace_once(**_: Any) -> None:  # a new upload lands after our HEAD, before our copy
        if not replaced:
            replaced.append(True)
            direct(s3_env).put_object(Bucket=bucket, Key=key, Body=b"new", ContentType="image/png", Metadata={"v": "2"})

    with loopback_proxy(s3_env, copy_conditions=True) as (url, state):
        monkeypatch.setenv("AWS_ENDPOINT_URL_S3", url)
        client, calls = counting_client()
        client.meta.events.register("before-call.s3.CopyObject", replace_once)
        report = sync(bucket, client)
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", s3_env)
    assert state.preconditions_failed == 1
    assert (report.changed, report.failed) == (1, 0)
    after = head(bucket, key)
    assert (after["CacheControl"], after["ContentType"], after["Metadata"]) == (ONE_HOUR, "image/png", {"v": "2"})
    assert client.get_object(Bucket=bucket, Key=key)["Body"].read() == b"new"
    assert calls["HeadObject"] == 2 and calls["CopyObject"] == 2  # the first copy was refused (412)


INTERNAL = (
    b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>InternalError</Code>'
    b"<Message>We encountered an internal error. Please try again.</Message></Error>"
)
FAULT_STATUSES = {503: SLOW_DOWN, 500: INTERNAL}
VIDEO = bytes(range(256)) * (12 * MiB // 256 + 3)  # three parts of 5 MiB, 5 MiB, 2 MiB and a bit


def test_the_multipart_threshold_is_a_setting_of_the_site_s_media() -> None:
    from appcdn.media_sync.targets import resolve_target
    from tests.conftest import problems_of, project_of, raw_config

    def media(**aws: Any) -> Any:
        return raw_config(media={"backend": "aws", "aws": {"bucket_name": "shop-media", **aws}})

    [site] = project_of(media(multipart_threshold_mib=5)).config.sites
    assert site.media is not None and resolve_target(site.media).multipart_threshold == 5 * MiB  # type: ignore[union-attr]
    [site] = project_of(media()).config.sites
    assert site.media is not None and resolve_target(site.media).multipart_threshold == 5 * 1024 * MiB  # type: ignore[union-attr]
    [problem] = problems_of(media(multipart_threshold_mib=4))
    assert problem.startswith("sites[0].media.aws.multipart_threshold_mib: ") and "5" in problem, problem


def test_a_multipart_copy_whose_completion_answer_is_lost_counts_as_changed(
    bucket: str, s3_env: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = "filer_public/video.mp4"
    put(bucket, key, VIDEO, ContentType="video/mp4")
    lost = Faults(rate=1.0, statuses={}, kinds=("reset-after",), methods=("POST",), path_contains="uploadId=", limit=1)
    with loopback_proxy(s3_env, faults=lost) as (url, state):
        monkeypatch.setenv("AWS_ENDPOINT_URL_S3", url)
        report = sync(bucket, multipart_threshold=5 * MiB, part_size=5 * MiB)
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", s3_env)
    assert lost.injected == {"reset-after": 1}
    completes = [status for method, path, status in state.answered if method == "POST" and "uploadId=" in path]
    assert completes[0] == 200 and len(completes) == 2  # applied, its answer lost; the retry finds no upload
    assert (report.changed, report.failed) == (1, 0)
    assert report.rules[2].served_changed == ["/filer_public/video.mp4"]
    after = direct(s3_env).get_object(Bucket=bucket, Key=key)
    assert (after["CacheControl"], after["ContentType"], after["Body"].read()) == (ONE_HOUR, "video/mp4", VIDEO)


def test_a_multipart_copy_under_injected_faults_completes_with_the_object_intact(
    bucket: str, s3_env: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A third of the requests fail (503 SlowDown, 500, a reset before or after moto sees them, a delay): the
    copy's parts are retried, the object ends with its bytes, type, metadata and tags, and no upload is left."""
    key = "filer_public/video.mp4"
    put(bucket, key, VIDEO, ContentType="video/mp4", Metadata={"a": "1"}, Tagging="k=v")
    faults = Faults(rate=0.34, statuses=FAULT_STATUSES)
    with loopback_proxy(s3_env, faults=faults) as (url, state):
        monkeypatch.setenv("AWS_ENDPOINT_URL_S3", url)
        report = sync(bucket, multipart_threshold=5 * MiB, part_size=5 * MiB)
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", s3_env)
    assert sum(faults.injected.values()) >= 3, faults
    assert any("partNumber=" in path for _, path, _ in state.answered)
    assert (report.changed, report.failed) == (1, 0)
    client = direct(s3_env)
    after = client.get_object(Bucket=bucket, Key=key)
    assert (after["CacheControl"], after["ContentType"], after["Metadata"]) == (ONE_HOUR, "video/mp4", {"a": "1"})
    assert after["Body"].read() == VIDEO
    assert client.get_object_tagging(Bucket=bucket, Key=key)["TagSet"] == [{"Key": "k", "Value": "v"}]
    assert not client.list_multipart_uploads(Bucket=bucket).get("Uploads")


def test_under_injected_faults_every_object_written_is_counted_changed_and_purged(
    bucket: str, s3_env: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for i in range(40):
        put(bucket, f"filer_public/{i:02}.jpg", CacheControl=ONE_HOUR if i % 4 == 0 else "max-age=1")
    faults = Faults(rate=0.3, statuses=FAULT_STATUSES)
    with loopback_proxy(s3_env, faults=faults) as (url, state):
        monkeypatch.setenv("AWS_ENDPOINT_URL_S3", url)
        report = sync(bucket)
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", s3_env)
    assert faults.injected["reset-after"] and len({kind.split()[0] for kind in faults.injected}) == 4, faults
    written = {
        urllib.parse.unquote(path.split("/", 2)[2])
        for method, path, status in state.answered
        if method == "PUT" and "?" not in path and status == 200
    }
    assert len(written) == 30 and report.failed == 0
    assert report.changed == len(written)
    urls = set(purge_plan(report, "media.example.com").urls)
    assert {f"https://media.example.com/{key}" for key in written} <= urls
    assert all(head(bucket, f"filer_public/{i:02}.jpg")["CacheControl"] == ONE_HOUR for i in range(40))
