"""``S3Media``: a site's media bucket on S3, private except the public prefixes, TLS only."""

import json
from collections.abc import Mapping, Sequence
from typing import NotRequired, TypedDict

import pulumi
import pulumi_aws as aws

from appcdn import defaults
from appcdn.rules.media import cors_origins, s3_bucket_policy, s3_endpoint_host


def bucket_guards(
    name: str, bucket: aws.s3.Bucket, region: str, public_policy: bool, opts: pulumi.ResourceOptions
) -> list[pulumi.Resource]:
    """Bucket owner enforced (no ACLs) and every public access blocked, but for a bucket policy that grants
    public read where ``public_policy``: the resources the bucket's policy must wait for."""
    ownership = aws.s3.BucketOwnershipControls(
        f"{name}-ownership",
        bucket=bucket.id,
        region=region,
        rule={"object_ownership": "BucketOwnerEnforced"},
        opts=opts,
    )
    public_access = aws.s3.BucketPublicAccessBlock(
        f"{name}-public-access",
        bucket=bucket.id,
        region=region,
        block_public_acls=True,
        ignore_public_acls=True,
        block_public_policy=not public_policy,
        restrict_public_buckets=not public_policy,
        opts=opts,
    )
    return [public_access, ownership]


class S3MediaArgs(TypedDict):
    region: str
    """AWS region of the bucket."""
    bucket_name: NotRequired[str | None]
    """Fixed bucket name; default: named by Pulumi from the component's name."""
    public_prefixes: Sequence[str]
    """Object-key prefixes anyone may read (GetObject only); everything else stays private."""
    cors_hosts: Sequence[str]
    """Hosts whose pages may fetch media from the browser (HTTPS origins)."""
    versioning: bool
    """Keep versions (Live), expiring noncurrent ones after ``noncurrent_version_days``."""
    noncurrent_version_days: int
    """How long a replaced or deleted version is kept, with ``versioning``."""
    tags: Mapping[str, str]
    """Tags of the bucket."""
    protect: NotRequired[bool]
    """Protect the bucket from ``destroy`` and renames, and retain it if it is ever deleted (Live media)."""


class S3Media(pulumi.ComponentResource):
    """Bucket owner enforced (no ACLs), public access blocked but for a policy that allows reading the
    public prefixes, SSE-S3 encryption, a deny of any request not over TLS, CORS for the site's hosts."""

    bucket: aws.s3.Bucket
    """The bucket."""
    bucket_name: pulumi.Output[str]
    """The bucket's name."""
    bucket_arn: pulumi.Output[str]
    """The bucket's ARN."""
    bucket_regional_domain_name: pulumi.Output[str]
    """The bucket's regional domain name, as AWS reports it."""
    endpoint_host: pulumi.Output[str]
    """The virtual-hosted-style host of the bucket (``<bucket>.s3.<region>.amazonaws.com``), the origin of a media
    domain."""

    def __init__(self, name: str, args: S3MediaArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("appcdn:index:S3Media", name, {}, opts)
        region = args["region"]
        protect = args.get("protect", False)
        keep = pulumi.ResourceOptions(parent=self, protect=protect, retain_on_delete=protect)
        child = pulumi.ResourceOptions(parent=self)
        bucket = aws.s3.Bucket(
            f"{name}-bucket", bucket=args.get("bucket_name"), region=region, tags=dict(args["tags"]), opts=keep
        )
        self.bucket = bucket
        self.bucket_name = bucket.bucket
        self.bucket_arn = bucket.arn
        self.bucket_regional_domain_name = bucket.bucket_regional_domain_name
        self.endpoint_host = bucket.bucket.apply(lambda b: s3_endpoint_host(b, region))

        guards = bucket_guards(name, bucket, region, bool(args["public_prefixes"]), child)
        aws.s3.BucketPolicy(
            f"{name}-policy",
            bucket=bucket.id,
            region=region,
            policy=bucket.arn.apply(lambda arn: json.dumps(s3_bucket_policy(arn, args["public_prefixes"]))),
            opts=pulumi.ResourceOptions(parent=self, depends_on=guards),
        )
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-encryption",
            bucket=bucket.id,
            region=region,
            rules=[
                {
                    "apply_server_side_encryption_by_default": {"sse_algorithm": defaults.S3_ENCRYPTION},
                    "bucket_key_enabled": True,
                }
            ],
            opts=child,
        )
        aws.s3.BucketCorsConfiguration(
            f"{name}-cors",
            bucket=bucket.id,
            region=region,
            cors_rules=[
                {
                    "allowed_methods": defaults.CORS_METHODS,
                    "allowed_origins": cors_origins(args["cors_hosts"]),
                    "allowed_headers": ["*"],
                    "max_age_seconds": defaults.CORS_MAX_AGE,
                }
            ],
            opts=child,
        )
        lifecycle_rules: list[aws.s3.BucketLifecycleConfigurationRuleArgsDict] = [
            {
                "id": "abort-incomplete-multipart-uploads",
                "status": "Enabled",
                "filter": {},
                "abort_incomplete_multipart_upload": {"days_after_initiation": defaults.MULTIPART_UPLOAD_ABORT_DAYS},
            }
        ]
        lifecycle_depends: list[pulumi.Resource] = []
        if args["versioning"]:
            lifecycle_depends.append(
                aws.s3.BucketVersioning(
                    f"{name}-versioning",
                    bucket=bucket.id,
                    region=region,
                    versioning_configuration={"status": "Enabled"},
                    opts=child,
                )
            )
            lifecycle_rules.append(
                {
                    "id": "expire-noncurrent-versions",
                    "status": "Enabled",
                    "filter": {},
                    "noncurrent_version_expiration": {"noncurrent_days": args["noncurrent_version_days"]},
                }
            )
        aws.s3.BucketLifecycleConfiguration(
            f"{name}-lifecycle",
            bucket=bucket.id,
            region=region,
            rules=lifecycle_rules,
            opts=pulumi.ResourceOptions(parent=self, depends_on=lifecycle_depends),
        )
        self.register_outputs(
            {
                "bucket_name": self.bucket_name,
                "bucket_arn": self.bucket_arn,
                "bucket_regional_domain_name": self.bucket_regional_domain_name,
                "endpoint_host": self.endpoint_host,
            }
        )
