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

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import Field, TypeAdapter, ValidationError

from appcdn import resource_names
from appcdn.config.app import AppConfig, app_problems
from appcdn.config.cache import CachePolicy, ImageRule, image_problems, policy_problems
from appcdn.config.certificates import CertificateConfig, certificate_problems, secret_problems
from appcdn.config.fields import STAGES, Host, Name, Stage, Strict, in_zone
from appcdn.config.media import MediaConfig, media_hosts, media_problems
from appcdn.config.messages import REMOVED_KEYS, SecretTest, shown, structure_problems, validate_partially
from appcdn.config.names import collisions, declared_names
from appcdn.config.problems import Problem, duplicate_names
from appcdn.config.pulumi_yaml.stack_yaml import Span
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


_STAGE: TypeAdapter[Stage] = TypeAdapter(Stage)
DeclaredZone = tuple[ZoneConfig | None, Stage | None, str | None]
"""A zone as declared in the project: its config (None when it does not validate), its owner's stage and file."""


@dataclass(frozen=True)
class ParsedStack:
    """One stack file as far as it validates: the stage, the zones and sites that passed (with their index in the
    file), the names of zones that did not, and every structural problem. Broken parts are left out so that
    the meaning checks of the rest still run: one pass reports everything."""

    stage: Stage | None
    zones: dict[str, ZoneConfig]
    broken_zones: list[str]
    sites: list[tuple[int, Site]]
    problems: list[Problem]

    def config(self) -> StackConfig:
        """The whole stack file as a model; only when there is no problem."""
        assert self.stage is not None and not self.problems
        return StackConfig(stage=self.stage, zones=self.zones, sites=[site for _, site in self.sites])


def parse_structure(
    raw: Mapping[str, Any],
    stack_name: str,
    spans: Mapping[str, Span] | None = None,
    secret: SecretTest = lambda path: False,
) -> ParsedStack:
    """The namespace's keys (without ``appcdn:``) as models, each zone and site on its own; unknown keys and
    wrong types are problems."""
    problems = [
        Problem(key, REMOVED_KEYS.get(key, "unknown key")) for key in raw if key not in StackConfig.model_fields
    ]
    stage: Stage | None = None
    written = raw.get("stage", stack_name if stack_name in STAGES else None)
    if written is None and "stage" not in raw:
        problems.append(Problem("stage", "Field required"))
    else:
        try:
            stage = _STAGE.validate_python(written)
        except ValidationError as err:
            problems += structure_problems(err, "stage", spans, secret)
    zones, broken = {}, []
    raw_zones = raw.get("zones", {})
    if not isinstance(raw_zones, Mapping):
        problems.append(Problem("zones", f"{shown(raw_zones)} is not a map of zones by apex domain"))
        raw_zones = {}
    for name, data in raw_zones.items():
        zone, found = validate_partially(ZoneConfig, data, f"zones.{name}", spans, secret)
        problems += found
        if zone is None:
            broken.append(name)
        else:
            zones[name] = zone
    sites: list[tuple[int, Site]] = []
    raw_sites = raw.get("sites")
    if not isinstance(raw_sites, list) or not raw_sites:
        problems.append(
            Problem(
                "sites",
                "Field required"
                if raw_sites is None
                else f"{shown(raw_sites)} is not a list of sites; give at least one",
            )
        )
        raw_sites = []
    for i, data in enumerate(raw_sites):
        site, found = validate_partially(Site, data, f"sites[{i}]", spans, secret)
        problems += found
        if site is not None:
            sites.append((i, site))
    return ParsedStack(stage, zones, broken, sites, problems)


def zone_of(zones: Mapping[str, DeclaredZone], path: str, site: Site) -> DeclaredZone | Problem:
    found = zones.get(site.zone)
    if found is None:
        declared = ", ".join(sorted(zones)) or "none"
        return Problem(
            f"{path}.zone",
            f"{site.zone!r} is not declared under zones in any stack file of the project (declared: {declared})",
        )
    return found


def name_problems(parsed: ParsedStack) -> Iterable[Problem]:
    """Two resources of one stack with the same type and name cannot both exist."""
    named = [("Zone", resource_names.zone_component(name), f"zones.{name}", f"zone {name}") for name in parsed.zones]
    for i, site in parsed.sites:
        certificates = [(c.name, c.mode, c.hosts) for c in site.certificates]
        named += [
            (kind, name, f"sites[{i}].{key}", f"site {site.name}'s {key.split('[')[0].replace('.', ' ')}")
            for kind, name, key in declared_names(
                site.name, parsed.stage or "live", site.hosts, media_hosts(site.media), certificates
            )
        ]
    yield from collisions(named)


def stack_problems(parsed: ParsedStack, zones: Mapping[str, DeclaredZone], secret: SecretTest) -> Iterable[Problem]:
    """Meaning checks of one stack, against the project's zones; sites on a zone that does not validate are
    checked once it does."""
    for name, zone in parsed.zones.items():
        yield from zone_problems(f"zones.{name}", name, zone)
    yield from duplicate_names("sites", [s.name for _, s in parsed.sites], "site", [i for i, _ in parsed.sites])
    yield from name_problems(parsed)
    for i, site in parsed.sites:
        sp = f"sites[{i}]"
        found = zone_of(zones, sp, site)
        if isinstance(found, Problem):
            yield found
            continue
        declared, owner, owner_file = found
        if declared is None:
            continue
        zone = declared
        for host in site.hosts:
            if not in_zone(host, site.zone):
                yield Problem(f"{sp}.hosts", f"{host!r} is outside the site's zone {site.zone}")
        if site.origin is not None and site.origin in [*site.hosts, *media_hosts(site.media)]:
            yield Problem(
                f"{sp}.origin",
                f"{site.origin!r} is one of the site's own hosts: its record would point at "
                "itself; origin is where the app runs (e.g. shop.eu.aldryn.io)",
            )
        yield from policy_problems(f"{sp}.cache", site.cache, site.hosts, zone.plan)
        yield from image_problems(f"{sp}.images", site.images, site.hosts, zone.plan)
        if site.media is not None:
            yield from media_problems(
                f"{sp}.media",
                site.media,
                site.zone,
                zone.plan,
                owner_file or "the owner's stack file" if owner != parsed.stage else None,
            )
        yield from certificate_problems(
            f"{sp}.certificates",
            site.certificates,
            list(site.hosts) + media_hosts(site.media),
            site.zone,
            zone.plan,
            zone.settings.ssl,
        )
        yield from secret_problems(f"{sp}.certificates", site.certificates, secret)
        yield from app_problems(f"{sp}.app", site.app, secret)
