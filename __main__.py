"""The appcdn program: stack config → components → exports. Run by ``pulumi up`` and by ``appcdn plan``."""

import json

import pulumi
import pulumi_cloudflare as cloudflare

from appcdn.config import NAMESPACE, ConfigError, MediaConfig, Site, media_hosts, parse_stack_config
from appcdn.policy.media import connector_rule, django_settings, fixed_endpoint_host, media_url
from appcdn.policy.rulesets import compile_zones
from appcdn.policy.zone_settings import zone_settings
from components.app_hosts import AppHosts
from components.azure_media import AzureMedia
from components.certificates import SiteCertificates, certificate_spec
from components.s3_media import S3Media
from components.zone import Zone


def read_namespace() -> tuple[dict, list[str]]:
    """Every key the stack sets in the ``appcdn`` namespace (so that unknown keys can be reported), and the
    secret ones. Read raw: the values feed validation only; secrets reach resources as secret Outputs."""
    prefix = NAMESPACE + ":"
    keys = sorted(k for k in {**pulumi.runtime.config.get_config_env(), **pulumi.runtime.config.CONFIG.get()}
                  if k.startswith(prefix))
    out = {}
    for key in keys:
        raw = pulumi.runtime.config.get_config(key)
        try:
            out[key[len(prefix):]] = json.loads(raw)
        except (TypeError, ValueError):
            out[key[len(prefix):]] = raw
    return out, [k for k in keys if pulumi.runtime.config.is_config_secret(k)]


def declare_media(site: Site, media: MediaConfig, stage: str) -> S3Media | AzureMedia:
    name, live = f"{site.name}-{stage}-media", stage == "live"
    tags = {"appcdn-site": site.name, "appcdn-stage": stage}
    cors_hosts = site.hosts + media_hosts(media)
    if media.backend == "aws":
        return S3Media(name, {
            "region": media.aws.region, "bucket_name": media.aws.bucket_name, "public_prefixes": media.public_prefixes,
            "cors_hosts": cors_hosts, "versioning": live, "noncurrent_version_days": media.aws.noncurrent_version_days,
            "tags": tags, "protect": live,
        })
    return AzureMedia(name, {
        "resource_group": media.azure.resource_group, "location": media.azure.location,
        "account_name": media.azure.account_name, "public": bool(media.public_prefixes), "cors_hosts": cors_hosts,
        "soft_delete_days": media.azure.soft_delete_days if live else None, "tags": tags, "protect": live,
    })


try:
    namespace, secret_keys = read_namespace()
    stack_config = parse_stack_config(namespace, pulumi.get_stack(), secret_keys)
    compiled = compile_zones(stack_config)
except ConfigError as err:
    raise pulumi.RunError(err.report()) from None
stage = stack_config.stage

media_storage = {s.name: declare_media(s, s.media, stage) for s in stack_config.sites if s.media}

zone_ids = {}
for zone_name, zone_config in stack_config.zones.items():
    slug = zone_name.replace(".", "-")
    if zone_name in compiled:
        rules = compiled[zone_name]
        zone = Zone(slug, {
            "name": zone_name, "zone_id": zone_config.id, "account_id": zone_config.account_id,
            "settings": zone_settings(zone_config),
            "cache_rules": [r.to_rule() for r in rules.cache],
            "config_rules": [r.to_rule() for r in rules.config],
            "cloud_connector_rules": [
                connector_rule(ss.media, ss.site, ss.stage,
                               media_storage[ss.site].endpoint_host if ss.stage == stage else fixed_endpoint_host(ss.media))
                for ss in rules.media_domains],
        })
        zone_ids[zone_name] = zone.zone_id
    elif zone_config.id:
        zone_ids[zone_name] = pulumi.Output.from_input(zone_config.id)
    else:
        zone_ids[zone_name] = cloudflare.get_zone_output(filter={"name": zone_name}).id

site_exports = {}
for site in stack_config.sites:
    if site.origin:
        AppHosts(f"{site.name}-{stage}", {
            "zone_id": zone_ids[site.zone], "hosts": site.hosts, "origin": site.origin, "purpose": "app"})
    exports = {"hosts": site.hosts, "zone": site.zone}
    if site.certificates:
        certificates = SiteCertificates(f"{site.name}-{stage}-certificates", {
            "zone_id": zone_ids[site.zone], "certificates": [certificate_spec(c) for c in site.certificates]})
        exports["origin_certificates"] = certificates.origin_certificates
        exports["acm_certificate_arns"] = certificates.acm_certificate_arns
    if site.media:
        storage = media_storage[site.name]
        if site.media.domain:
            AppHosts(f"{site.name}-{stage}-media-domain", {
                "zone_id": zone_ids[site.zone], "hosts": media_hosts(site.media), "origin": storage.endpoint_host,
                "purpose": "media"})
        exports["django"] = storage.endpoint_host.apply(
            lambda endpoint, media=site.media: django_settings(media, media_url(media, endpoint)))
    site_exports[site.name] = exports

pulumi.export("stage", stage)
pulumi.export("zone_ids", zone_ids)
pulumi.export("sites", site_exports)
