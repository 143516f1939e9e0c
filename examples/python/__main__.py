"""A docs site of its own, composed from appcdn's components and its own resources.

- media on S3 with appcdn's secure defaults (``S3Media``), served on docs-media.example.com (``AppHosts``);
- a file of its own uploaded with the Cache-Control that appcdn's header rules give its key (first match);
- its own DNS record for the site, and the live appcdn stack's outputs read through a StackReference.

Preview it offline: ``appcdn plan --cwd examples/python --stack dev``.
"""

import pulumi
import pulumi_aws as aws
import pulumi_cloudflare as cloudflare

from appcdn.components.app_hosts import AppHosts
from appcdn.components.s3_media import S3Media
from appcdn.config.media import HeaderRule
from appcdn.rules.media import first_match

config = pulumi.Config()
zone_id = config.require("zoneId")
region = "eu-central-1"
headers = [
    HeaderRule(match="downloads/*", cache_control="public, max-age=86400"),
    HeaderRule(match="*", cache_control="public, max-age=3600"),
]

media = S3Media(
    "docs-media",
    {
        "region": region,
        "public_prefixes": ["downloads/"],
        "cors_hosts": ["docs.example.com"],
        "versioning": True,
        "noncurrent_version_days": 30,
        "tags": {"site": "docs"},
        "protect": True,
    },
)
AppHosts(
    "docs-media-host",
    {"zone_id": zone_id, "hosts": ["docs-media.example.com"], "origin": media.endpoint_host, "purpose": "media"},
)

brochure_key = "downloads/brochure.pdf"
rule = first_match(headers, brochure_key)
aws.s3.BucketObjectv2(
    "brochure",
    bucket=media.bucket_name,
    key=brochure_key,
    region=region,
    source=pulumi.StringAsset("%PDF-1.4 placeholder"),
    content_type="application/pdf",
    cache_control=rule.cache_control if rule else None,
)

cloudflare.DnsRecord(
    "docs-site",
    zone_id=zone_id,
    name="docs.example.com",
    type="CNAME",
    content="docs.pages.dev",
    proxied=True,
    ttl=1,
    comment="docs site",
)

live = pulumi.StackReference("appcdn-live", stack_name=config.require("appcdnStack"))
pulumi.export("media_bucket", media.bucket_name)
pulumi.export("media_url", media.endpoint_host.apply(lambda host: f"https://{host}/"))
pulumi.export("brochure_cache_control", rule.cache_control if rule else None)
pulumi.export(
    "shop_app_env", live.get_output("sites").apply(lambda sites: (sites or {}).get("shop", {}).get("app_env"))
)
