"""One representative request per rule of a site: the probes ``appcdn adopt`` runs through a live zone's
existing rules, which can only be evaluated request by request (``appcdn.rules.expression_reader``).

The plan's own table does not probe: it evaluates the compiled rules exactly (``appcdn.behaviour.table``).
"""

from __future__ import annotations

from dataclasses import dataclass

from appcdn.config.cache import Match
from appcdn.config.media import media_hosts
from appcdn.rules.cache_rules import stage_cache_rules
from appcdn.rules.expressions import Request
from appcdn.rules.media import object_path
from appcdn.rules.rulesets import SiteStage


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
        host=(match.hosts or hosts)[0],
        path=path,
        method=(match.methods or ["GET"])[0],
        cookies=frozenset(match.cookies[:1]),
        headers=frozenset(match.headers[:1]),
        query_args=frozenset(match.query_args[:1]),
        true_expressions=frozenset([match.expression] if match.expression else []),
    )


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
