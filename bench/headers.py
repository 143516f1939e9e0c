"""Benchmark of the media header reconcile (not a test): objects per second, requests per object, writes on a
second run, on moto's S3 server and on Azurite, through a counting loopback proxy (tests/loopback_proxy.py).

S3, 10 000 objects (30 % public thumbnails, 70 % others; each with a Content-Type and user metadata), two header
rules, each contestant on its own copy of the same objects, in the same run:
- ours: ``appcdn.media_sync`` (16 threads, HEAD + conditional copy only where needed);
- awscli: ``aws s3 cp s3://B s3://B --recursive --metadata-directive REPLACE --cache-control …``, once per rule,
  as a user would (the catch-all run excludes the thumbnails);
- naive: a sequential boto3 loop (HEAD, then copy with the metadata carried over where the header differs).
Then each runs again on its result. Also counted: objects whose Content-Type or user metadata did not survive.

Azure, 10 000 blobs: ours (listing only, then Set Blob Properties where needed) against a naive sequential loop
(Get Blob Properties per blob, then Set Blob Properties).

    PYTHONPATH=$PWD .venv/bin/python bench/headers.py [--objects 10000]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import boto3  # noqa: E402 (after the repository is put on sys.path)
from azure.storage.blob import (  # noqa: E402 (after the repository is put on sys.path)
    BlobServiceClient,
    ContentSettings,
)

from appcdn.config.media import HeaderRule  # noqa: E402 (after the repository is put on sys.path)
from appcdn.media_sync.clients import blob_service  # noqa: E402 (after the repository is put on sys.path)
from appcdn.media_sync.engine import sync_store  # noqa: E402 (after the repository is put on sys.path)
from appcdn.media_sync.targets import S3Target, sync_target  # noqa: E402 (after the repository is put on sys.path)
from appcdn.runtime.azure_blobs import AzureContainer  # noqa: E402 (after the repository is put on sys.path)
from appcdn.runtime.header_rules import RuleBook  # noqa: E402 (after the repository is put on sys.path)
from tests.emulators import (  # noqa: E402 (after the repository is put on sys.path)
    AZURITE_ACCOUNT,
    AZURITE_BLOB,
    AZURITE_KEY,
    MOTO_ENV,
    free_port,
)
from tests.loopback_proxy import ProxyState, loopback_proxy  # noqa: E402 (after the repository is put on sys.path)

ONE_YEAR, ONE_HOUR = "public, max-age=31536000", "public, max-age=3600"
RULES = RuleBook(
    [
        HeaderRule(match="filer_public_thumbnails/*", cache_control=ONE_YEAR),
        HeaderRule(match="*", cache_control=ONE_HOUR),
    ]
)
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_DEFAULT_REGION": "us-east-1"}
WRITES = {"PUT", "POST"}


@contextmanager
def server(command: list[str], port: int, env: dict[str, str] | None = None) -> Iterator[None]:
    process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, **(env or {})}
    )
    import socket

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.2)
    try:
        yield
    finally:
        process.terminate()
        process.wait(timeout=10)


def keys(count: int) -> list[str]:
    return [
        f"filer_public_thumbnails/{i // 100}/img {i}.jpg__400x300.jpg"
        if i % 10 < 3
        else f"filer_public/{i // 100}/file+{i}.jpg"
        for i in range(count)
    ]


def populate_s3(client: object, bucket: str, names: list[str]) -> None:
    """A bucket as S3Media declares it (bucket owner enforced: no ACLs) holding ``names``."""
    client.create_bucket(Bucket=bucket)  # type: ignore[attr-defined]
    client.put_bucket_ownership_controls(  # type: ignore[attr-defined]
        Bucket=bucket, OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    )
    with ThreadPoolExecutor(16) as pool:
        list(
            pool.map(
                lambda k: client.put_object(  # type: ignore[attr-defined]
                    Bucket=bucket, Key=k, Body=b"x" * 512, ContentType="image/jpeg", Metadata={"uploaded-by": "bench"}
                ),
                names,
            )
        )


def damaged(client: object, bucket: str, names: list[str]) -> int:
    """Objects whose Content-Type or user metadata did not survive."""

    def bad(key: str) -> bool:
        head = client.head_object(Bucket=bucket, Key=key)  # type: ignore[attr-defined]
        return bool(head["ContentType"] != "image/jpeg" or head["Metadata"] != {"uploaded-by": "bench"})

    with ThreadPoolExecutor(16) as pool:
        return sum(pool.map(bad, names))


def awscli(proxy: str, bucket: str) -> None:
    aws = shutil.which("aws", path=str(Path(sys.executable).parent)) or shutil.which("aws")
    base = [
        str(aws),
        "s3",
        "cp",
        f"s3://{bucket}",
        f"s3://{bucket}",
        "--recursive",
        "--metadata-directive",
        "REPLACE",
        "--endpoint-url",
        proxy,
        "--only-show-errors",
    ]
    env = {**os.environ, **CREDENTIALS}
    subprocess.run(
        [*base, "--exclude", "*", "--include", "filer_public_thumbnails/*", "--cache-control", ONE_YEAR],
        check=True,
        env=env,
    )
    subprocess.run([*base, "--exclude", "filer_public_thumbnails/*", "--cache-control", ONE_HOUR], check=True, env=env)


def naive_s3(proxy: str, bucket: str) -> None:
    s3 = boto3.client("s3", endpoint_url=proxy, region_name="us-east-1")
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for obj in page.get("Contents", []):
            key = obj["Key"]
            want = ONE_YEAR if key.startswith("filer_public_thumbnails/") else ONE_HOUR
            head = s3.head_object(Bucket=bucket, Key=key)
            if head.get("CacheControl") != want:
                s3.copy_object(
                    Bucket=bucket,
                    Key=key,
                    CopySource={"Bucket": bucket, "Key": key},
                    MetadataDirective="REPLACE",
                    CacheControl=want,
                    ContentType=head["ContentType"],
                    Metadata=head["Metadata"],
                )


def ours_s3(proxy: str, bucket: str) -> None:
    os.environ["AWS_ENDPOINT_URL_S3"] = proxy
    report = sync_target(S3Target(bucket, "us-east-1", ()), RULES, workers=16)
    assert report.failed == 0, report.lines()


def measure(state: ProxyState, count: int, run: Callable[[], None]) -> tuple[float, float, int]:
    """(objects/s, requests per object, writes) of one run."""
    state.reset()
    started = time.monotonic()
    run()
    elapsed = time.monotonic() - started
    writes = sum(n for method, n in state.requests.items() if method in WRITES)
    return count / elapsed, sum(state.requests.values()) / count, writes


def bench_s3(count: int) -> list[str]:
    os.environ.update(CREDENTIALS)
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    rows = []
    with (
        server([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)], port, MOTO_ENV),
        loopback_proxy(endpoint) as (proxy, state),
    ):
        direct = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
        names = keys(count)
        contestants = {
            "ours (16 threads)": ours_s3,
            "awscli s3 cp, one run per rule": awscli,
            "naive sequential loop": naive_s3,
        }
        buckets = {name: f"bench-{uuid.uuid4().hex[:10]}" for name in contestants}
        for bucket in buckets.values():
            populate_s3(direct, bucket, names)
        for name, run in contestants.items():
            bucket = buckets[name]
            first = measure(state, count, lambda run=run, bucket=bucket: run(proxy, bucket))
            second = measure(state, count, lambda run=run, bucket=bucket: run(proxy, bucket))
            rows.append(
                f"| S3 | {name} | {first[0]:.0f} | {first[1]:.2f} | {first[2]} | {second[0]:.0f} | "
                f"{second[1]:.2f} | {second[2]} | {damaged(direct, bucket, names)} |"
            )
            print(rows[-1], flush=True)
    return rows


def bench_azure(count: int) -> list[str]:
    port = free_port()
    origin = f"http://127.0.0.1:{port}"
    rows = []
    command = [
        str(AZURITE_BLOB),
        "--blobHost",
        "127.0.0.1",
        "--blobPort",
        str(port),
        "--silent",
        "--skipApiVersionCheck",
        "--loose",
        "--disableTelemetry",
        "--inMemoryPersistence",
    ]
    with server(command, port), loopback_proxy(origin) as (proxy, state):

        def connection(base: str) -> str:
            return (
                f"DefaultEndpointsProtocol=http;AccountName={AZURITE_ACCOUNT};AccountKey={AZURITE_KEY};"
                f"BlobEndpoint={base}/{AZURITE_ACCOUNT};"
            )

        service = BlobServiceClient.from_connection_string(connection(origin))
        names = keys(count)
        os.environ["AZURE_STORAGE_CONNECTION_STRING"] = connection(proxy)

        def ours(container: str) -> None:
            store = AzureContainer(blob_service(None, 16).get_container_client(container))
            assert sync_store(store, RULES, workers=16).failed == 0

        def naive(container: str) -> None:
            client = BlobServiceClient.from_connection_string(connection(proxy)).get_container_client(container)
            for blob in client.list_blobs():
                want = ONE_YEAR if blob.name.startswith("filer_public_thumbnails/") else ONE_HOUR
                properties = client.get_blob_client(blob.name).get_blob_properties()
                settings = properties.content_settings
                if settings.cache_control != want:
                    settings.cache_control = want
                    client.get_blob_client(blob.name).set_http_headers(content_settings=settings)

        for name, run in {"ours (16 threads)": ours, "naive sequential loop": naive}.items():
            container = service.create_container(f"bench{uuid.uuid4().hex[:10]}")
            with ThreadPoolExecutor(16) as pool:
                list(
                    pool.map(
                        lambda k, container=container: container.upload_blob(
                            k, b"x" * 512, content_settings=ContentSettings(content_type="image/jpeg")
                        ),
                        names,
                    )
                )
            first = measure(state, count, lambda run=run, c=container: run(c.container_name))
            reads = sum(1 for method, path, _ in state.log if method in ("GET", "HEAD") and "comp=list" not in path)
            second = measure(state, count, lambda run=run, c=container: run(c.container_name))
            rows.append(
                f"| Azure | {name} | {first[0]:.0f} | {first[1]:.2f} ({reads / count:.2f} per-blob reads) | "
                f"{first[2]} | {second[0]:.0f} | {second[1]:.2f} | {second[2]} | - |"
            )
            print(rows[-1], flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--objects", type=int, default=10_000)
    parser.add_argument("--only", choices=["s3", "azure"])
    args = parser.parse_args()
    print(f"{args.objects} objects; load average at start {os.getloadavg()[0]:.2f}; nproc {os.cpu_count()}")
    print(
        "| store | contestant | 1st run objects/s | requests/object | writes | 2nd run objects/s | requests/object "
        "| writes | objects damaged |"
    )
    print("|---|---|---|---|---|---|---|---|---|", flush=True)
    if args.only != "azure":
        bench_s3(args.objects)
    if args.only != "s3":
        bench_azure(args.objects)
    print(f"load average at end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
