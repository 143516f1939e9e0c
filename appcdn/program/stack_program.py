"""The appcdn program as a function: a validated project and its compiled zones → resources → outputs.

``__main__.py`` (run by ``pulumi up``) calls ``load`` and then ``declare``; the offline plan, the tests and
the benchmark call ``declare`` with what they have already parsed and compiled.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import partial
from pathlib import Path
from typing import Any

import pulumi
import pulumi_cloudflare as cloudflare

from appcdn import defaults, resource_names
from appcdn.components.app_hosts import AppHosts
from appcdn.components.azure_media import AzureMedia
from appcdn.components.cache_store import CacheStore
from appcdn.components.certificates import SiteCertificates
from appcdn.components.media_headers import MediaHeaders
from appcdn.components.purge_token import PurgeToken
from appcdn.components.s3_headers_batch import S3HeadersBatch
from appcdn.components.s3_media import S3Media
from appcdn.components.zone import Zone
from appcdn.config.fields import NAMESPACE, Stage
from appcdn.config.media import MediaConfig
from appcdn.config.problems import ConfigError
from appcdn.config.project import Project, StackSource, load_project
from appcdn.config.pulumi_yaml.stack_files import (
    PROVIDER_SECRETS,
    peer_sources,
    plaintext_secret_message,
    stack_file_path,
)
from appcdn.config.stack import Site
from appcdn.program.component_args import (
    app_hosts_args,
    azure_media_args,
    cache_store_args,
    certificate_spec,
    media_domain_args,
    media_headers_args,
    s3_headers_batch_args,
    s3_media_args,
    zone_args,
)
from appcdn.rules.app_env import app_env, fixed_cache_url, purge_env
from appcdn.rules.media import django_settings, fixed_endpoint_host, media_url
from appcdn.rules.rulesets import ZoneRules, compile_zones

MediaStorage = S3Media | AzureMedia


def _declare_media(site: Site, stage: Stage) -> MediaStorage | None:
    media = site.media
    if media is None:
        return None
    name = resource_names.media_storage(site.name, stage)
    if media.backend == "aws":
        return S3Media(name, s3_media_args(site, media, stage))
    return AzureMedia(name, azure_media_args(site, media, stage))


def _django_exports(media: MediaConfig, names: list[str]) -> dict[str, Any]:
    """The app's media settings once the storage's endpoint host and name are known."""
    endpoint_host, store_name = names
    return django_settings(media, media_url(media, endpoint_host), store_name)


def _store_name(store: MediaStorage) -> pulumi.Output[str]:
    return store.bucket_name if isinstance(store, S3Media) else store.account_name


def _declare_media_headers(
    site: Site, stage: Stage, project: Project, zone_id: pulumi.Output[str], store: MediaStorage
) -> dict[str, Any]:
    """Stored objects get the rules' headers on ``up`` (unless the stack turns it off): from here, or, for a
    bucket that asks for it, by an S3 Batch Operations job (whose state is exported)."""
    assert site.media is not None
    store_name = _store_name(store)
    if isinstance(store, S3Media):
        batch = s3_headers_batch_args(site, site.media, stage, store_name, store.bucket_arn)
        if batch is not None:
            engine = S3HeadersBatch(
                resource_names.media_headers(site.name, stage), batch, pulumi.ResourceOptions(depends_on=[store])
            )
            return {"headers_job": {"id": engine.job_id, "status": engine.job_status}}
    token = pulumi.Config("cloudflare").get_secret("apiToken")
    args = media_headers_args(site, site.media, project.zone(site.zone), zone_id, store_name, token)
    if args is not None:
        MediaHeaders(resource_names.media_headers(site.name, stage), args, pulumi.ResourceOptions(depends_on=[store]))
    return {}


def _media_exports(media: MediaConfig, store: MediaStorage) -> dict[str, Any]:
    """Where a site's media lives, for other stacks: the storage, its endpoint and the host the app links to."""
    exports: dict[str, Any] = {
        "backend": media.backend,
        "endpoint_host": store.endpoint_host,
        "host": media.domain.host if media.domain else store.endpoint_host,
        "url": store.endpoint_host.apply(partial(media_url, media)),
    }
    if isinstance(store, S3Media):
        exports |= {"bucket": store.bucket_name, "region": media.aws.region}
    else:
        exports |= {
            "account": store.account_name,
            "containers": store.container_names,
            "resource_group": store.resource_group_name,
        }
    return exports


def _zone_id(project: Project, zone_name: str) -> pulumi.Output[str]:
    """A zone another stack owns: its id from the owner's file, else looked up by name."""
    zone = project.zone(zone_name)
    if zone.id:
        return pulumi.Output.from_input(zone.id)
    return cloudflare.get_zone_output(filter={"name": zone_name, "match": "all"}).id


def _cache_url(site: Site, stage: Stage) -> pulumi.Output[str]:
    """The site's ``CACHE_URL``, a secret: a managed Redis's, or the one config gives."""
    args = cache_store_args(site, stage)
    if args is not None:
        return CacheStore(f"{site.name}-{stage}-cache", args).cache_url
    return pulumi.Output.secret(fixed_cache_url(site.app.cache) or "")


def declare(project: Project, zones: Mapping[str, ZoneRules]) -> dict[str, Any]:
    """Declare the stack's resources; return its outputs (stage, zone ids, per-site exports)."""
    stage, config = project.stage, project.config
    storage = {site.name: _declare_media(site, stage) for site in config.sites}

    zone_ids: dict[str, pulumi.Output[str]] = {}
    for zone_name in project.zones_in_use():
        if not project.owns(zone_name):
            zone_ids[zone_name] = _zone_id(project, zone_name)
            continue
        rules = zones[zone_name]
        endpoints: dict[tuple[str, Stage], pulumi.Input[str] | None] = {}
        for ss in rules.media_domains:
            own = storage.get(ss.site) if ss.stage == stage else None
            endpoints[(ss.site, ss.stage)] = (
                own.endpoint_host if own else (fixed_endpoint_host(ss.media) if ss.media else None)
            )
        zone = Zone(
            resource_names.zone_component(zone_name), zone_args(zone_name, project.zone(zone_name), rules, endpoints)
        )
        zone_ids[zone_name] = zone.zone_id

    site_exports: dict[str, Any] = {}
    for site in config.sites:
        zone_id = zone_ids[site.zone]
        hosts = app_hosts_args(site, zone_id)
        if hosts is not None:
            AppHosts(resource_names.app_hosts(site.name, stage), hosts)
        exports: dict[str, Any] = {"hosts": site.hosts, "zone": site.zone, "zone_id": zone_id}
        if site.certificates:
            certificates = SiteCertificates(
                resource_names.site_certificates(site.name, stage),
                {"zone_id": zone_id, "certificates": [certificate_spec(c) for c in site.certificates]},
            )
            exports["origin_certificates"] = certificates.origin_certificates
            exports["acm_certificate_arns"] = certificates.acm_certificate_arns
        media, store = site.media, storage[site.name]
        if media is not None and store is not None:
            domain = media_domain_args(media, zone_id, store.endpoint_host)
            if domain is not None:
                AppHosts(resource_names.media_domain_hosts(site.name, stage), domain)
            exports["django"] = pulumi.Output.all(store.endpoint_host, _store_name(store)).apply(
                partial(_django_exports, media)
            )
            exports["media"] = _media_exports(media, store) | _declare_media_headers(
                site, stage, project, zone_id, store
            )
        exports["app_env"] = {
            **app_env(site.app, stage),
            **purge_env(stage, project.zone(site.zone).plan),
            "CACHE_URL": _cache_url(site, stage),
            "CLOUDFLARE_ZONE_ID": zone_id,
        }
        if site.app.purge_token and defaults.PURGE_ON_CHANGE[stage] == "on":  # nothing is cached on Test
            token = PurgeToken(
                resource_names.purge_token(site.name, stage),
                {"zone_id": zone_id, "token_name": f"appcdn {site.name} {stage}: purge {site.zone}"},
            )
            exports["app_env"]["CLOUDFLARE_API_TOKEN"] = token.value
        site_exports[site.name] = exports
    return {"stage": stage, "zone_ids": zone_ids, "sites": site_exports}


def export(outputs: Mapping[str, Any]) -> None:
    for key, value in outputs.items():
        pulumi.export(key, value)


def _own_source(project_dir: Path) -> StackSource:
    """The stack's ``appcdn`` namespace as the engine gives it (secrets decrypted but marked), every key
    read so that unknown ones are reported. Pulumi offers no public way to list config keys; its own
    ``CONFIG`` context variable is read where ``set_all_config`` writes it."""
    prefix = NAMESPACE + ":"
    config_keys = {**pulumi.runtime.get_config_env(), **pulumi.runtime.config.CONFIG.get()}
    keys = sorted(k for k in config_keys if k.startswith(prefix))
    namespace: dict[str, Any] = {}
    for key in keys:
        raw = pulumi.runtime.get_config(key)
        try:
            namespace[key[len(prefix) :]] = json.loads(raw)
        except (TypeError, ValueError):
            namespace[key[len(prefix) :]] = raw
    secret_keys = [k for k in keys if pulumi.runtime.is_config_secret(k)]
    return StackSource(pulumi.get_stack(), namespace, secret_keys, stack_file_path(project_dir, pulumi.get_stack())[1])


def load(project_dir: Path) -> tuple[Project, dict[str, ZoneRules]]:
    """Under ``pulumi up``: this stack's config and the project's other stack files, validated and compiled
    once. A config problem stops the run with every problem listed, no stack trace."""
    for key in PROVIDER_SECRETS:
        if pulumi.runtime.get_config(key) is not None and not pulumi.runtime.is_config_secret(key):
            pulumi.log.warn(f"{key} {plaintext_secret_message(key)}")
    try:
        project = load_project(_own_source(project_dir), peer_sources(project_dir, pulumi.get_stack()))
        return project, compile_zones(project)
    except ConfigError as err:
        raise pulumi.RunError(err.report()) from None
