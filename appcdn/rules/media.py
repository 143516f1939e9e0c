"""Media header rules, from one definition, for the app, the edge and the bucket.

Neither S3 nor Azure Blob has a bucket-wide default ``Cache-Control``: the header lives on each object.
So the ordered header rules (first match wins) are compiled three ways:

- for the app: django-storages settings (``AWS_S3_OBJECT_PARAMETERS``, ``AZURE_CACHE_CONTROL``) for the
  catch-all rule, plus the whole ordered list for per-path headers;
- for the edge: cache rules on the media host that give the TTLs the rules declare, even to objects
  stored without the header. Cloudflare applies every matching rule and the *last* one wins, so the
  header rules are emitted in reverse order: the first header rule is applied last and wins, as it does
  at upload;
- for the bucket: the S3 bucket policy (public read only under the public prefixes, TLS only) and CORS.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from appcdn.config.cache import Match
from appcdn.config.fields import Stage
from appcdn.config.media import HeaderRule, MediaConfig, media_hosts
from appcdn.config.plans import MIN_EDGE_TTL, PlanTier
from appcdn.defaults import AZURE_PRIVATE_CONTAINER, AZURE_PUBLIC_CONTAINER
from appcdn.rules.expressions import any_of
from appcdn_django.contracts import MEDIA_SETTINGS
from appcdn_django.globs import glob_matches

CONNECTOR_PROVIDERS = {"aws": "aws_s3", "azure": "azure_storage"}


def s3_endpoint_host(bucket: str, region: str) -> str:
    return f"{bucket}.s3.{region}.amazonaws.com"


def azure_endpoint_host(account: str) -> str:
    """The only host form Cloud Connector accepts for Azure."""
    return f"{account}.blob.core.windows.net"


def fixed_endpoint_host(media: MediaConfig) -> str | None:
    """The provider's host for the media storage, when its name is fixed in config (known before deployment)."""
    if media.backend == "aws":
        return s3_endpoint_host(media.aws.bucket_name, media.aws.region) if media.aws.bucket_name else None
    return azure_endpoint_host(media.azure.account_name) if media.azure.account_name else None


def first_match(rules: Sequence[HeaderRule], key: str) -> HeaderRule | None:
    """The header rule for an object key: the first whose glob matches."""
    return next((r for r in rules if glob_matches(r.match, key)), None)


def object_headers(rule: HeaderRule) -> dict[str, str]:
    """HTTP header name → value that an object under ``rule`` carries."""
    headers = {"Cache-Control": rule.cache_control}
    if rule.content_disposition:
        headers["Content-Disposition"] = rule.content_disposition
    if rule.content_language:
        headers["Content-Language"] = rule.content_language
    return headers


def catch_all(rules: Sequence[HeaderRule]) -> HeaderRule | None:
    return next((r for r in rules if r.match == "*"), None)


def django_settings(media: MediaConfig, media_url: str | None = None, store_name: str | None = None) -> dict[str, Any]:
    """What the app needs, as django-storages understands it, plus the ordered rules for per-path headers.
    ``store_name``: the bucket or storage account. ``appcdn_django.media`` reads this contract (versioned)."""
    default = catch_all(media.headers)
    settings: dict[str, Any] = {
        **MEDIA_SETTINGS.exported(),
        "APPCDN_MEDIA_BACKEND": media.backend,
        "APPCDN_MEDIA_HEADERS": [{"match": r.match, "headers": object_headers(r)} for r in media.headers],
        "APPCDN_MEDIA_PUBLIC_PREFIXES": list(media.public_prefixes),
    }
    if media.backend == "aws":
        settings["AWS_S3_REGION_NAME"] = media.aws.region
        if store_name:
            settings["AWS_STORAGE_BUCKET_NAME"] = store_name
        if default is not None:
            settings["AWS_S3_OBJECT_PARAMETERS"] = {k.replace("-", ""): v for k, v in object_headers(default).items()}
    else:
        # Azure's public access is per container, not per prefix: the default storage is the private
        # container, and only the public prefixes go to the public one.
        settings["AZURE_CONTAINER"] = AZURE_PRIVATE_CONTAINER
        if store_name:
            settings["AZURE_ACCOUNT_NAME"] = store_name
        if media.public_prefixes:
            settings["APPCDN_AZURE_PUBLIC_CONTAINER"] = AZURE_PUBLIC_CONTAINER
        if default is not None:
            settings["AZURE_CACHE_CONTROL"] = default.cache_control
    if media_url:
        settings["MEDIA_URL"] = media_url
    return settings


def edge_overrides(rule: HeaderRule, plan: PlanTier) -> bool:
    """Whether the edge should impose the rule's max-age instead of reading the object's header."""
    max_age = rule.max_age()
    if rule.edge_ttl == "respect_origin" or max_age is None or max_age == 0:
        return False
    return rule.edge_ttl == "override" or max_age >= MIN_EDGE_TTL[plan]


def edge_settings(rule: HeaderRule, plan: PlanTier) -> dict[str, Any]:
    """``set_cache_settings`` parameters for the objects of one header rule. ``no-store`` and ``private``
    objects are bypassed at the edge: one stored without the header must not be cached either."""
    if rule.forbids_shared_caching():
        return {"cache": False}
    if not edge_overrides(rule, plan):
        return {"cache": True, "edge_ttl": {"mode": "respect_origin"}, "browser_ttl": {"mode": "respect_origin"}}
    max_age = rule.max_age()
    return {
        "cache": True,
        "edge_ttl": {"mode": "override_origin", "default": max_age},
        "browser_ttl": {"mode": "override_origin", "default": max_age},
    }


def object_path(media: MediaConfig, key_glob: str) -> str:
    """The URL path of an object (or glob) on the media host: Azure paths start with the container."""
    if media.backend == "azure":
        return f"/{AZURE_PUBLIC_CONTAINER}/{key_glob}"
    return f"/{key_glob}"


def media_edge_rules(media: MediaConfig, plan: PlanTier) -> list[tuple[str, Match, dict[str, Any]]]:
    """(rule name, match on the media host, settings) in the order Cloudflare must apply them."""
    if media.domain is None:
        return []
    if not media.domain.cache:
        return [("media-bypass", Match(), {"cache": False})]
    rules = []
    for index in reversed(range(len(media.headers))):
        rule = media.headers[index]
        match = Match() if rule.match == "*" else Match(paths=[object_path(media, rule.match)])
        rules.append((f"media-{index}", match, edge_settings(rule, plan)))
    return rules


def deny_insecure_transport(bucket_arn: str) -> dict[str, Any]:
    """The bucket policy statement refusing every request not over TLS."""
    return {
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [bucket_arn, f"{bucket_arn}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


def s3_bucket_policy(bucket_arn: str, public_prefixes: Sequence[str]) -> dict[str, Any]:
    """Public read of the public prefixes only (no list, no write); every request over TLS."""
    statements: list[dict[str, Any]] = [deny_insecure_transport(bucket_arn)]
    if public_prefixes:
        statements.append(
            {
                "Sid": "PublicReadOfPublicMedia",
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": [f"{bucket_arn}/{prefix}*" for prefix in sorted(public_prefixes)],
            }
        )
    return {"Version": "2012-10-17", "Statement": statements}


def cors_origins(hosts: Sequence[str]) -> list[str]:
    """The site's own origins, HTTPS only."""
    return [f"https://{h}" for h in sorted(set(hosts))]


def media_url(media: MediaConfig, endpoint_host: str) -> str:
    """Where the app's media is served: the custom domain, else the provider's endpoint (HTTPS)."""
    host = media.domain.host if media.domain is not None else endpoint_host
    return f"https://{host}" + ("/" if media.backend == "aws" else f"/{AZURE_PUBLIC_CONTAINER}/")


def connector_rule(media: MediaConfig, site: str, stage: Stage, endpoint_host: Any) -> dict[str, Any]:
    """The Cloud Connector rule sending a media domain to its bucket (``endpoint_host`` may be an Output).

    Cloud Connector works on every plan; Origin Rules' Host-header override would need Enterprise."""
    return {
        "cloud_connector_rules_provider": CONNECTOR_PROVIDERS[media.backend],
        "description": f"appcdn: {site}/{stage}/media",
        "enabled": True,
        "expression": any_of("lower(http.host)", media_hosts(media)),
        "parameters": {"host": endpoint_host},
    }


# --- S3 Batch Operations header reconcile (components/s3_headers_batch.py) -------------------------------
# https://docs.aws.amazon.com/AmazonS3/latest/userguide/configure-inventory.html#configure-inventory-destination-bucket-policy
# https://docs.aws.amazon.com/AmazonS3/latest/userguide/batch-ops-iam-role-policies.html


def assume_role_policy(service: str) -> dict[str, Any]:
    """Only ``service`` (e.g. ``lambda.amazonaws.com``) may assume the role."""
    return {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}],
    }


def reports_bucket_policy(
    reports_arn: str, inventory_prefix: str, source_bucket_arn: str, account_id: str
) -> dict[str, Any]:
    """S3 Inventory of the media bucket (and only it, from this account) may write its reports; TLS only."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            deny_insecure_transport(reports_arn),
            {
                "Sid": "InventoryOfMediaBucket",
                "Effect": "Allow",
                "Principal": {"Service": "s3.amazonaws.com"},
                "Action": "s3:PutObject",
                "Resource": f"{reports_arn}/{inventory_prefix}/*",
                "Condition": {
                    "ArnLike": {"aws:SourceArn": source_bucket_arn},
                    "StringEquals": {"aws:SourceAccount": account_id},
                },
            },
        ],
    }


def reconcile_lambda_policy(bucket_arn: str, log_group_arn: str) -> dict[str, Any]:
    """What the per-object reconcile does on the media bucket: HEAD (GetObject), copy onto itself with its tags
    (Get/PutObject, Get/PutObjectTagging), multipart for large objects, and telling a missing key from a
    forbidden one (ListBucket); and writing its log into its own log group (which the stack creates, so not
    CreateLogGroup); nothing else, nowhere else."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": f"{log_group_arn}:*",
            },
            {
                "Effect": "Allow",
                "Action": [
                    "s3:GetObject",
                    "s3:PutObject",
                    "s3:GetObjectTagging",
                    "s3:PutObjectTagging",
                    "s3:AbortMultipartUpload",
                ],
                "Resource": f"{bucket_arn}/*",
            },
            {"Effect": "Allow", "Action": ["s3:ListBucket", "s3:GetBucketOwnershipControls"], "Resource": bucket_arn},
        ],
    }


def batch_job_policy(reports_arn: str, inventory_prefix: str, report_prefix: str, function_arn: str) -> dict[str, Any]:
    """What the job does: read the inventory manifest, invoke the reconcile Lambda, write its report."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": function_arn},
            {
                "Effect": "Allow",
                "Action": ["s3:GetObject", "s3:GetObjectVersion"],
                "Resource": f"{reports_arn}/{inventory_prefix}/*",
            },
            {"Effect": "Allow", "Action": "s3:PutObject", "Resource": f"{reports_arn}/{report_prefix}/*"},
            {"Effect": "Allow", "Action": "s3:GetBucketLocation", "Resource": reports_arn},
        ],
    }
