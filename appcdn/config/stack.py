"""One stack file's ``appcdn`` namespace: the stage, the zones this stack owns and the sites it serves.

    appcdn:stage: live                 # optional; defaults to the stack name (test | live)
    appcdn:zones:                      # the zones this stack owns, by apex name
      example.com: {id: "...", plan: pro, images: {polish: lossless, webp: true}}
    appcdn:sites:                      # the apps this stack serves, on this stage
      - name: shop
        zone: example.com              # declared here or in another stack file of the project
        hosts: [www.example.com]
        cache: {rules: [...]}
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from typing import Any

from pydantic import Field, ValidationError

from appcdn.config.app import AppConfig, app_problems
from appcdn.config.cache import CachePolicy, ImageRule, image_problems, policy_problems
from appcdn.config.certificates import CertificateConfig, certificate_problems, secret_problems
from appcdn.config.fields import NAMESPACE, STAGES, Host, Name, Stage, Strict, in_zone
from appcdn.config.media import MediaConfig, media_hosts, media_problems
from appcdn.config.problems import ConfigError, Problem, duplicate_names, structure_problems
from appcdn.config.zones import ZoneConfig, zone_problems


class Site(Strict):
    """An app on one stage: its hosts, edge cache policy, images, media and certificates."""

    name: Name = Field(description="the same name on every stage; lower-case letters, digits and '-'")
    zone: str = Field(description="apex of the Cloudflare zone the hosts are in")
    hosts: list[Host] = Field(min_length=1, description="this stage's app hosts, inside the zone")
    origin: Host | None = Field(default=None, description="host name the app's DNS records point to (CNAME)")
    cache: CachePolicy = Field(default=CachePolicy(), description="see Cache rules")
    images: list[ImageRule] = Field(default=[], description="per-path Polish (configuration rules)")
    media: MediaConfig | None = Field(default=None, description="see Media")
    certificates: list[CertificateConfig] = Field(default=[], description="see Certificates")
    app: AppConfig = Field(default=AppConfig(), description="the app's own cache store and CMS cache durations")


class StackConfig(Strict):
    """Everything one stack file declares."""

    stage: Stage = Field(description="default: the stack's name")
    zones: dict[str, ZoneConfig] = Field(default={}, description="the zones this stack owns, by apex domain")
    sites: list[Site] = Field(min_length=1, description="the apps this stack serves")


def parse_structure(raw: Mapping[str, Any], stack_name: str) -> StackConfig:
    """The namespace's keys (without ``appcdn:``) as a model; unknown keys and wrong types are problems."""
    data = dict(raw)
    if "stage" not in data and stack_name in STAGES:
        data["stage"] = stack_name
    try:
        return StackConfig.model_validate(data)
    except ValidationError as err:
        raise ConfigError(structure_problems(err)) from None


def zone_of(zones: Mapping[str, tuple[ZoneConfig, Stage, str | None]], path: str,
            site: Site) -> tuple[ZoneConfig, Stage, str | None] | Problem:
    found = zones.get(site.zone)
    if found is None:
        declared = ", ".join(sorted(zones)) or "none"
        return Problem(f"{path}.zone", f"{site.zone!r} is not declared under zones in any stack file of the "
                                       f"project (declared: {declared})")
    return found


def stack_problems(config: StackConfig, zones: Mapping[str, tuple[ZoneConfig, Stage, str | None]],
                   secret_keys: Collection[str]) -> Iterable[Problem]:
    """Meaning checks of one stack, against the project's zones (name → config, owner stage, owner's file)."""
    for name, zone in config.zones.items():
        yield from zone_problems(f"zones.{name}", name, zone)
    yield from duplicate_names("sites", [s.name for s in config.sites], "site")
    for i, site in enumerate(config.sites):
        sp = f"sites[{i}]"
        found = zone_of(zones, sp, site)
        if isinstance(found, Problem):
            yield found
            continue
        zone, owner, owner_file = found
        for host in site.hosts:
            if not in_zone(host, site.zone):
                yield Problem(f"{sp}.hosts", f"{host!r} is outside the site's zone {site.zone}")
        yield from policy_problems(f"{sp}.cache", site.cache, site.hosts, zone.plan)
        yield from image_problems(f"{sp}.images", site.images, site.hosts, zone.plan)
        if site.media is not None:
            yield from media_problems(f"{sp}.media", site.media, site.zone, zone.plan,
                                      owner_file or "the owner's stack file" if owner != config.stage else None)
        yield from certificate_problems(f"{sp}.certificates", site.certificates,
                                        list(site.hosts) + media_hosts(site.media), site.zone, zone.plan,
                                        zone.settings.ssl)
        yield from secret_problems(f"{sp}.certificates", site.certificates, f"{NAMESPACE}:sites" in secret_keys)
        yield from app_problems(f"{sp}.app", site.app, f"{NAMESPACE}:sites" in secret_keys)
