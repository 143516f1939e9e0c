"""The effective cache behaviour of each site, per host and path class, as the compiled rules give it.

Each row comes from a representative request run through the zone's *compiled* (merged) rules in
order, so the table shows what Cloudflare will do, not what the config meant.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from appcdn.config.cache import Match
from appcdn.config.media import media_hosts
from appcdn.config.project import Project
from appcdn.policy.cache_rules import stage_cache_rules
from appcdn.policy.expressions import Request
from appcdn.policy.media import object_path
from appcdn.policy.rulesets import SiteStage, ZoneRules, apply_rules, site_stages


@dataclass(frozen=True)
class BehaviourRow:
    site: str
    stage: str
    hosts: str
    requests: str
    cache: str
    edge_ttl: str
    browser_ttl: str
    polish: str

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def duration(seconds: int) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def describe(match: Match) -> str:
    parts = []
    if match.hosts:
        parts.append("host " + "|".join(match.hosts))
    parts += [p + "*" for p in match.path_prefixes] + list(match.paths)
    parts += [f"*/{segment}[/*] (any case)" for segment in match.path_segments]
    if match.extensions:
        parts.append("*." + "|".join(match.extensions))
    if match.methods:
        parts.append("method " + "|".join(match.methods))
    if match.cookies:
        parts.append("cookie " + "|".join(match.cookies))
    if match.headers:
        parts.append("header " + "|".join(match.headers))
    if match.query_args:
        parts.append("query " + "|".join(f"?{arg}" for arg in match.query_args))
    if match.expression:
        parts.append(f"expr {match.expression}")
    return " ".join(parts) or "any path"


def representative(match: Match, hosts: list[str]) -> Request:
    """A request that the match selects (raw expressions are taken to hold)."""
    if match.paths:
        path = match.paths[0].replace("*", "x")
    elif match.path_prefixes:
        path = match.path_prefixes[0] + "x"
    elif match.path_segments:
        path = f"/en/{match.path_segments[0]}/"
    else:
        path = "/page/"
    if match.extensions and not path.endswith("." + match.extensions[0]):
        path = path.rstrip("/") + "." + match.extensions[0]
    return Request(
        host=(match.hosts or hosts)[0], path=path, method=(match.methods or ["GET"])[0],
        cookies=frozenset(match.cookies[:1]), headers=frozenset(match.headers[:1]),
        query_args=frozenset(match.query_args[:1]),
        true_expressions=frozenset([match.expression] if match.expression else []),
    )


def _edge(settings: Mapping[str, Any]) -> str:
    edge = settings.get("edge_ttl")
    if edge is None or edge["mode"] == "respect_origin":
        return "origin, else Cloudflare defaults"
    if edge["mode"] == "bypass_by_default":
        return "origin, else bypass"
    return duration(edge["default"])


def _browser(settings: Mapping[str, Any]) -> str:
    browser = settings.get("browser_ttl")
    if browser is None or browser["mode"] == "respect_origin":
        return "origin"
    if browser["mode"] == "bypass":
        return "bypass"
    return duration(browser["default"])


@dataclass(frozen=True)
class Probe:
    """One row's question: a representative request for a path class of a stage's hosts."""

    hosts: list[str]
    label: str
    request: Request


def probes(ss: SiteStage) -> list[Probe]:
    """The path classes of a stage's site (its cache rules, image rules and media header rules), each once per
    first host, with the request that stands for it."""
    matches = [(ss.hosts, r.match) for r in stage_cache_rules(ss.cache, ss.stage)]
    matches += [(ss.hosts, r.match) for r in ss.images]
    if ss.media is not None and media_hosts(ss.media):
        matches += [(media_hosts(ss.media), Match(paths=[object_path(ss.media, r.match)])) for r in ss.media.headers]
    found: dict[tuple[str, str], Probe] = {}
    for hosts, match in matches:
        label = describe(match)
        found.setdefault((label, hosts[0]), Probe(hosts, label, representative(match, hosts)))
    return list(found.values())


def outcome(settings: Mapping[str, Any]) -> tuple[str, str, str]:
    """(cache, edge TTL, browser TTL) in the table's words, for the settings that hold for a request."""
    cached = settings.get("cache")
    if cached is None:
        return "Cloudflare default (static extensions)", "-", "-"
    if cached:
        return "cached", _edge(settings), _browser(settings)
    return "bypassed", "-", "-"


def _stage_rows(ss: SiteStage, rules: ZoneRules, zone_polish: str) -> list[BehaviourRow]:
    """Rows for one stage of a site, from its zone's compiled rules."""
    rows = []
    for probe in probes(ss):
        cache, edge, browser = outcome(apply_rules(rules.cache, probe.request))
        polish = apply_rules(rules.config, probe.request).get("polish", zone_polish)
        rows.append(BehaviourRow(ss.site, ss.stage, ", ".join(probe.hosts), probe.label, cache, edge, browser, polish))
    return rows


def behaviour_rows(project: Project, compiled: dict[str, ZoneRules]) -> list[BehaviourRow]:
    """The table of a stack: every stage's sites on the zones it owns, and its own sites on the others."""
    rows = []
    for zone_name, rules in compiled.items():
        polish = project.zone(zone_name).images.polish
        for ss in site_stages(project, zone_name):
            if project.owns(zone_name) or ss.stage == project.stage:
                rows += _stage_rows(ss, rules, polish)
    return rows
