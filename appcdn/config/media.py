"""A site's media storage on S3 or Azure Blob, its header rules and its optional custom domain, with checks.

Neither S3 nor Azure Blob has a bucket-wide default ``Cache-Control``: headers live on each object
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingMetadata.html), hence ordered header rules.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Literal

from pydantic import Field

from appcdn import defaults
from appcdn.config.fields import (
    AccountName,
    AwsRegion,
    AzureLocation,
    BucketName,
    Host,
    ObjectGlob,
    ObjectPrefix,
    ResourceGroupName,
    Strict,
    in_zone,
)
from appcdn.config.headers import CacheControl, ContentDisposition, ContentLanguage
from appcdn.config.plans import MAX_TTL, MIN_EDGE_TTL, PlanTier
from appcdn.config.problems import Problem
from appcdn_django.globs import covers

LAMBDA_ENVIRONMENT_BYTES = 4096
MAX_AGE_RE = re.compile(r"(?:^|,)\s*max-age\s*=\s*(\d+)\s*(?:,|$)")


class HeaderRule(Strict):
    """Headers for the objects whose key matches ``match``. In a list, the first match wins."""

    match: ObjectGlob = Field(description="object-key glob; '*' matches any characters")
    cache_control: CacheControl = Field(description="the Cache-Control header objects carry")
    content_disposition: ContentDisposition | None = Field(default=None, description="e.g. attachment")
    content_language: ContentLanguage | None = Field(default=None, description="e.g. de")
    edge_ttl: Literal["auto", "override", "respect_origin"] = Field(
        default="auto",
        description="override: the edge uses max-age even for objects stored without the "
        "header; auto: override where the plan's minimum edge TTL allows it",
    )

    def forbids_shared_caching(self) -> bool:
        """``no-store`` or ``private``: no shared cache may keep these objects (RFC 9111, section 5.2.2)."""
        directives = {d.strip().split("=", 1)[0] for d in self.cache_control.lower().split(",")}
        return bool(directives & {"no-store", "private"})

    def max_age(self) -> int | None:
        found = MAX_AGE_RE.search(self.cache_control.lower())
        return int(found.group(1)) if found else None


class BatchOperations(Strict):
    """S3's own bulk engine for the header reconcile of very large buckets: an S3 Inventory report of the bucket
    as manifest, a Lambda function running the per-object reconcile, and an S3 Batch Operations job invoking it."""

    inventory_frequency: Literal["Daily", "Weekly"] = Field(
        default=defaults.INVENTORY_FREQUENCY, description="how often S3 Inventory lists the bucket for the job"
    )
    rerun: int = Field(
        default=0,
        ge=0,
        description="change it to run a new job with the same rules over the newest "
        "inventory (after a failed job, or for objects uploaded since "
        "the last one)",
    )


class AwsMedia(Strict):
    """An S3 bucket."""

    region: AwsRegion = Field(default=defaults.AWS_REGION, description="AWS region")
    bucket_name: BucketName | None = Field(default=None, description="default: named by Pulumi from the site")
    noncurrent_version_days: int = Field(
        default=defaults.NONCURRENT_VERSION_DAYS, ge=1, le=3650, description="Live: keep old versions this long"
    )
    multipart_threshold_mib: int = Field(
        default=defaults.MULTIPART_THRESHOLD_MIB,
        ge=5,
        le=defaults.MULTIPART_THRESHOLD_MIB,
        description="header reconcile: objects larger than this (MiB) are copied part by part (UploadPartCopy); "
        "5 to 5120 (CopyObject's limit)",
    )
    batch_operations: BatchOperations | None = Field(
        default=None,
        description="pulumi up starts an S3 Batch Operations job (over an S3 Inventory manifest, "
        "with a Lambda function) instead of reconciling headers from the machine running "
        "it: for buckets of many millions of objects",
    )


class AzureMedia(Strict):
    """An Azure storage account with a private and a public container."""

    resource_group: ResourceGroupName | None = Field(default=None, description="existing group; default: create one")
    location: AzureLocation = Field(default=defaults.AZURE_LOCATION, description="Azure location")
    account_name: AccountName | None = Field(default=None, description="required: account names are global")
    soft_delete_days: int = Field(
        default=defaults.SOFT_DELETE_DAYS, ge=1, le=365, description="Live: blob and container soft delete"
    )


class MediaDomain(Strict):
    """A custom media host on the site's zone, routed to the bucket by Cloudflare Cloud Connector."""

    host: Host = Field(description="a host of the site's zone")
    cache: bool = Field(default=True, description="false: the edge bypasses its cache for this host")


class MediaConfig(Strict):
    """Media storage of a site on one stage."""

    backend: Literal["aws", "azure"] = Field(description="aws: S3; azure: Blob Storage")
    aws: AwsMedia = Field(default=AwsMedia(), description="backend aws")
    azure: AzureMedia = Field(default=AzureMedia(), description="backend azure")
    public_prefixes: list[ObjectPrefix] = Field(
        default=list(defaults.PUBLIC_PREFIXES), description="the only keys anyone may read"
    )
    headers: list[HeaderRule] = Field(
        default=[HeaderRule.model_validate(h) for h in defaults.MEDIA_HEADERS],
        min_length=1,
        description="ordered; the first match wins",
    )
    domain: MediaDomain | None = Field(default=None, description="default: the provider's endpoint")
    sync_headers_on_deploy: bool = Field(
        default=defaults.SYNC_HEADERS_ON_DEPLOY,
        description="pulumi up gives stored objects their rule's headers when the rules change (and purges them "
        "from the media domain); false: only appcdn media sync-headers does",
    )

    def reconcile_rules(self) -> list[dict[str, str]]:
        """The header rules as the reconcile takes them (what objects carry; the edge's TTL mode is not theirs)."""
        return [r.model_dump(exclude={"edge_ttl"}, exclude_none=True) for r in self.headers]


def media_hosts(media: MediaConfig | None) -> list[str]:
    """The custom media domain of a stage, as a list of hosts (none when media is on the provider's endpoint)."""
    return [media.domain.host] if media is not None and media.domain is not None else []


def _header_problems(path: str, rules: list[HeaderRule], plan: PlanTier) -> Iterable[Problem]:
    for j, rule in enumerate(rules):
        hp = f"{path}[{j}]"
        for i, earlier in enumerate(rules[:j]):
            if covers(earlier.match, rule.match):
                yield Problem(
                    f"{hp}.match",
                    f"never applies: headers[{i}] ({earlier.match!r}) comes first and "
                    f"matches every key this one does; the first match wins, so put the "
                    f"narrower rule first",
                )
                break
        max_age = rule.max_age()
        if max_age is None and rule.edge_ttl == "override":
            yield Problem(f"{hp}.cache_control", "edge_ttl override needs a max-age in cache_control")
        if max_age is not None and rule.edge_ttl != "respect_origin" and max_age > MAX_TTL:
            # https://developers.cloudflare.com/cache/how-to/cache-rules/settings/#edge-ttl
            yield Problem(
                f"{hp}.cache_control",
                f"max-age {max_age} s is above the {MAX_TTL} s (one year) "
                "Cloudflare's cache rules take at the edge; use at most one year, or "
                "edge_ttl: respect_origin",
            )
        if max_age is not None and rule.edge_ttl == "override" and max_age < MIN_EDGE_TTL[plan]:
            # https://developers.cloudflare.com/cache/how-to/edge-browser-cache-ttl/#edge-cache-ttl
            yield Problem(
                f"{hp}.edge_ttl",
                f"max-age {max_age} s is below the {plan} plan's minimum edge TTL "
                f"of {MIN_EDGE_TTL[plan]} s; use respect_origin or auto",
            )


def media_problems(
    path: str, media: MediaConfig, zone_name: str, plan: PlanTier, owner_file: str | None
) -> Iterable[Problem]:
    """``owner_file``: the stack file of the zone's owner when another stack owns it (it routes the domain)."""
    unused = "azure" if media.backend == "aws" else "aws"
    if unused in media.model_fields_set:
        yield Problem(
            f"{path}.{unused}",
            f"settings for the {unused} backend, but this site's media is on "
            f"{media.backend} (backend: {media.backend}): they would be ignored; "
            f"remove them, or change backend",
        )
    if media.backend == "azure" and media.azure.account_name is None:
        yield Problem(
            f"{path}.azure.account_name",
            "required for the azure backend: storage account names are global (3-24 lower-case letters and digits)",
        )
    yield from _header_problems(f"{path}.headers", media.headers, plan)
    if media.backend == "aws" and media.aws.batch_operations is not None:
        if not media.sync_headers_on_deploy:
            yield Problem(
                f"{path}.aws.batch_operations",
                "pulumi up starts the Batch Operations job, and "
                "sync_headers_on_deploy: false turns that off: nothing "
                "would ever run it; remove one of the two",
            )
        size = len(json.dumps(media.reconcile_rules()))
        if size > LAMBDA_ENVIRONMENT_BYTES - 64:
            # https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html
            yield Problem(
                f"{path}.headers",
                f"the rules take {size} bytes as JSON; the Batch Operations function "
                f"gets them in its environment, which Lambda limits to "
                f"{LAMBDA_ENVIRONMENT_BYTES} bytes: merge rules, or drop "
                "batch_operations",
            )
    for j, prefix in enumerate(media.public_prefixes):
        if media.public_prefixes.index(prefix) != j:
            yield Problem(f"{path}.public_prefixes[{j}]", f"{prefix!r} is listed twice")
    if media.domain is not None:
        if not in_zone(media.domain.host, zone_name):
            yield Problem(
                f"{path}.domain.host",
                f"{media.domain.host!r} is outside the site's zone {zone_name}; a "
                "custom media domain must be a host of that zone",
            )
        if owner_file and media.backend == "aws" and media.aws.bucket_name is None:
            # Cloud Connector rules are zone-wide: https://developers.cloudflare.com/rules/cloud-connector/
            yield Problem(
                f"{path}.aws.bucket_name",
                f"required with a custom media domain here: the zone's owner "
                f"({owner_file}) routes the domain to this bucket, so its name "
                "must be fixed",
            )
