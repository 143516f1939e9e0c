"""Validated config and compiled policy → each component's args: the one adapter between the two.

Nothing here declares a resource; the program passes these args to the components.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import cast

import pulumi
from pydantic import SecretStr

from appcdn import defaults
from appcdn.components.app_hosts import AppHostsArgs
from appcdn.components.azure_media import AzureMediaArgs
from appcdn.components.cache_store import CacheStoreArgs, Cloud
from appcdn.components.certificates import CertificateAuthority, CertificateMode, CertificateSpec, ValidationMethod
from appcdn.components.media_headers import MediaHeadersArgs
from appcdn.components.s3_headers_batch import S3HeadersBatchArgs
from appcdn.components.s3_media import S3MediaArgs
from appcdn.components.zone import ZoneArgs
from appcdn.components.zone_rules import ConnectorRule, PhaseRule
from appcdn.config.certificates import CertificateConfig
from appcdn.config.fields import Stage
from appcdn.config.media import MediaConfig, media_hosts
from appcdn.config.stack import Site
from appcdn.config.zones import ZoneConfig
from appcdn.rules.media import connector_rule
from appcdn.rules.rulesets import CompiledRule, ZoneRules
from appcdn.rules.zone_settings import zone_settings


def ruleset_rule(rule: CompiledRule) -> PhaseRule:
    return cast(PhaseRule, rule.to_rule())


def zone_args(
    zone_name: str,
    zone: ZoneConfig,
    rules: ZoneRules,
    endpoint_hosts: Mapping[tuple[str, Stage], pulumi.Input[str] | None],
) -> ZoneArgs:
    """``endpoint_hosts``: (site, stage) → the host of that stage's media storage, for its Cloud Connector rule."""
    connector_rules = [
        connector_rule(ss.media, ss.site, ss.stage, endpoint_hosts[(ss.site, ss.stage)])
        for ss in rules.media_domains
        if ss.media is not None
    ]
    return ZoneArgs(
        name=zone_name,
        zone_id=zone.id,
        account_id=zone.account_id,
        settings=zone_settings(zone),
        cache_rules=[ruleset_rule(r) for r in rules.cache],
        config_rules=[ruleset_rule(r) for r in rules.config],
        cloud_connector_rules=[cast(ConnectorRule, r) for r in connector_rules],
    )


def app_hosts_args(site: Site, zone_id: pulumi.Input[str]) -> AppHostsArgs | None:
    """The site's app hosts as proxied records to its origin; None without an origin."""
    if site.origin is None:
        return None
    return AppHostsArgs(zone_id=zone_id, hosts=list(site.hosts), origin=site.origin, purpose="app")


def media_domain_args(
    media: MediaConfig, zone_id: pulumi.Input[str], endpoint_host: pulumi.Input[str]
) -> AppHostsArgs | None:
    """The media domain as a proxied record to the storage endpoint; None when media is on the endpoint."""
    if not media_hosts(media):
        return None
    return AppHostsArgs(zone_id=zone_id, hosts=media_hosts(media), origin=endpoint_host, purpose="media")


def _tags(site: Site, stage: Stage) -> dict[str, str]:
    return {"appcdn-site": site.name, "appcdn-stage": stage}


def s3_media_args(site: Site, media: MediaConfig, stage: Stage) -> S3MediaArgs:
    posture = defaults.STORAGE_POSTURE[stage]
    return S3MediaArgs(
        region=media.aws.region,
        bucket_name=media.aws.bucket_name,
        public_prefixes=list(media.public_prefixes),
        cors_hosts=list(site.hosts) + media_hosts(media),
        versioning=posture["versioning"],
        noncurrent_version_days=media.aws.noncurrent_version_days,
        tags=_tags(site, stage),
        protect=posture["protect"],
    )


def azure_media_args(site: Site, media: MediaConfig, stage: Stage) -> AzureMediaArgs:
    posture = defaults.STORAGE_POSTURE[stage]
    if media.azure.account_name is None:
        raise ValueError("azure media needs an account name (validated by the config)")
    return AzureMediaArgs(
        resource_group=media.azure.resource_group,
        location=media.azure.location,
        account_name=media.azure.account_name,
        public=bool(media.public_prefixes),
        cors_hosts=list(site.hosts) + media_hosts(media),
        soft_delete_days=media.azure.soft_delete_days if posture["versioning"] else None,
        tags=_tags(site, stage),
        protect=posture["protect"],
    )


def media_headers_args(
    site: Site,
    media: MediaConfig,
    zone: ZoneConfig,
    zone_id: pulumi.Input[str],
    store_name: pulumi.Input[str],
    cloudflare_api_token: pulumi.Input[str] | None,
) -> MediaHeadersArgs | None:
    """The deploy-time header reconcile of a site's media; None when the stack turns it off."""
    if not media.sync_headers_on_deploy:
        return None
    cached = media.domain is not None and media.domain.cache
    args = MediaHeadersArgs(
        backend=media.backend,
        rules=media.reconcile_rules(),
        media_host=media.domain.host if media.domain is not None and cached else None,
        zone=site.zone,
        zone_id=zone_id,
        zone_plan=zone.plan,
        cloudflare_api_token=cloudflare_api_token,
    )
    if media.backend == "aws":
        args["bucket"], args["region"] = store_name, media.aws.region
        args["public_prefixes"] = list(media.public_prefixes)
        if media.aws.multipart_threshold_mib != defaults.MULTIPART_THRESHOLD_MIB:
            args["multipart_threshold"] = media.aws.multipart_threshold_mib * 1024**2
    else:
        public = [(defaults.AZURE_PUBLIC_CONTAINER, True)] if media.public_prefixes else []
        args["account"] = store_name
        args["containers"] = [(defaults.AZURE_PRIVATE_CONTAINER, False), *public]
    return args


def s3_headers_batch_args(
    site: Site, media: MediaConfig, stage: Stage, bucket: pulumi.Input[str], bucket_arn: pulumi.Input[str]
) -> S3HeadersBatchArgs | None:
    """S3's bulk engine for the header reconcile, when the site's media asks for it."""
    batch = media.aws.batch_operations
    if media.backend != "aws" or batch is None or not media.sync_headers_on_deploy:
        return None
    args = S3HeadersBatchArgs(
        bucket=bucket,
        bucket_arn=bucket_arn,
        region=media.aws.region,
        rules=media.reconcile_rules(),
        inventory_frequency=batch.inventory_frequency,
        rerun=batch.rerun,
        tags=_tags(site, stage),
    )
    if media.aws.multipart_threshold_mib != defaults.MULTIPART_THRESHOLD_MIB:
        args["multipart_threshold"] = media.aws.multipart_threshold_mib * 1024**2
    return args


def cache_store_args(site: Site, stage: Stage) -> CacheStoreArgs | None:
    """A managed Redis for the site's Django cache; None when the store needs nothing provisioned."""
    redis = site.app.cache.redis
    if site.app.cache.backend != "redis" or redis is None or redis.managed is None:
        return None
    args = CacheStoreArgs(
        cloud=Cloud(redis.managed),
        region=redis.region,
        location=redis.location,
        resource_group=redis.resource_group,
        tags=_tags(site, stage),
    )
    if redis.subnet_ids:
        args["subnet_ids"] = list(redis.subnet_ids)
    if redis.security_group_ids:
        args["security_group_ids"] = list(redis.security_group_ids)
    return args


def _secret(value: SecretStr | None) -> pulumi.Output[str] | None:
    return None if value is None else pulumi.Output.secret(value.get_secret_value())


def certificate_spec(cert: CertificateConfig) -> CertificateSpec:
    """A config entry as component input: secrets unwrapped from ``SecretStr`` into secret Outputs."""
    return CertificateSpec(
        name=cert.name,
        mode=CertificateMode(cert.mode),
        hosts=list(cert.hosts),
        certificate_authority=CertificateAuthority(cert.certificate_authority),
        validation_method=ValidationMethod(cert.validation_method),
        validity_days=cert.validity_days,
        certificate=_secret(cert.certificate),
        private_key=_secret(cert.private_key),
        region=cert.region,
    )
