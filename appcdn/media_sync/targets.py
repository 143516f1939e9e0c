"""Where a site's media lives (an S3 bucket, or an Azure account's containers), from its config and the
command's overrides, and one reconcile run over all of it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TextIO

from appcdn.config.media import MediaConfig
from appcdn.defaults import AZURE_PRIVATE_CONTAINER, AZURE_PUBLIC_CONTAINER
from appcdn.media_sync.engine import DEFAULT_WORKERS, Store, sync_store
from appcdn.media_sync.progress import Progress
from appcdn.media_sync.report import SyncReport
from appcdn.runtime.header_rules import RuleBook
from appcdn.runtime.s3_objects import COPY_OBJECT_LIMIT, MiB, S3Options


class TargetError(ValueError):
    """The command's flags and the site's config do not name one store."""


@dataclass(frozen=True)
class S3Target:
    bucket: str
    region: str
    public_prefixes: tuple[str, ...]
    """Keys under these are served publicly (on the media domain)."""
    multipart_threshold: int = COPY_OBJECT_LIMIT
    """Objects larger than this (bytes) are copied part by part."""

    def labels(self) -> list[str]:
        return [f"s3://{self.bucket}"]


@dataclass(frozen=True)
class AzureTarget:
    account: str
    containers: tuple[tuple[str, bool], ...]
    """(container, whether its blobs are served publicly on the media domain)."""

    def labels(self) -> list[str]:
        return [f"{self.account}/{name}" for name, _ in self.containers]


Target = S3Target | AzureTarget


def resolve_target(
    media: MediaConfig, bucket: str | None = None, account: str | None = None, container: str | None = None
) -> Target:
    """The store of the site's backend; flags override its names. Raises ``TargetError``."""
    if media.backend == "aws":
        if account or container:
            raise TargetError("--account and --container are for the azure backend; this site's media is on S3")
        name = bucket or media.aws.bucket_name
        if not name:
            raise TargetError(
                "the bucket is named by Pulumi (no media.aws.bucket_name): pass --bucket NAME "
                "(pulumi stack output, or the S3 console)"
            )
        return S3Target(name, media.aws.region, tuple(media.public_prefixes), media.aws.multipart_threshold_mib * MiB)
    if bucket:
        raise TargetError("--bucket is for the aws backend; this site's media is on Azure Blob")
    name = account or media.azure.account_name
    if not name:
        raise TargetError("no storage account: set media.azure.account_name or pass --account NAME")
    public = AZURE_PUBLIC_CONTAINER if media.public_prefixes else None
    names = [container] if container else [AZURE_PRIVATE_CONTAINER] + ([public] if public else [])
    return AzureTarget(name, tuple((c, c == public) for c in names))


def served_prefixes(media: MediaConfig, key_prefix: str) -> list[str]:
    """URL path prefixes on the media domain covering every served object whose key starts with ``key_prefix``
    (from config alone: no store is opened)."""
    if media.backend == "aws":
        from appcdn.runtime.s3_objects import served_prefixes as s3_served

        return s3_served(media.public_prefixes, key_prefix)
    from appcdn.runtime.azure_blobs import served_prefixes as container_served

    return container_served(AZURE_PUBLIC_CONTAINER, key_prefix) if media.public_prefixes else []


def open_stores(target: Target, workers: int, **azure_options: Any) -> list[Store[Any]]:
    from appcdn.media_sync.clients import blob_service, s3_client

    if isinstance(target, S3Target):
        from appcdn.runtime.s3_objects import S3Bucket

        options = S3Options(multipart_threshold=target.multipart_threshold)
        return [S3Bucket(s3_client(target.region, workers), target.bucket, target.public_prefixes, options)]
    from appcdn.runtime.azure_blobs import AzureContainer

    service = blob_service(target.account, workers, **azure_options)
    return [AzureContainer(service.get_container_client(name), served) for name, served in target.containers]


def sync_target(
    target: Target,
    book: RuleBook,
    dry_run: bool = False,
    workers: int = DEFAULT_WORKERS,
    progress_stream: TextIO | None = None,
    report: SyncReport | None = None,
) -> SyncReport:
    """Reconcile every store of ``target`` into one report (``report``, if given, holds what was done
    even when the run is interrupted)."""
    total = report if report is not None else SyncReport(dry_run=dry_run)
    for store in open_stores(target, workers):
        sync_store(store, book, dry_run, workers, Progress(store.label, total, progress_stream))
    return total
