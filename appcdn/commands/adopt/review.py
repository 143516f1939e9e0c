"""What a live zone's rules do today next to what ours will do, in the words of the plan's behaviour table.

Existing rules are evaluated like compiled ones, in order, each matching rule's settings overriding the
earlier ones'; where a rule's expression cannot be evaluated on a request
(``appcdn.rules.expression_reader``), the cell says so instead of guessing. Page rules that touch caching
are listed with the cache rules of ours that match the same requests (cache rules take precedence over
page rules: https://developers.cloudflare.com/cache/how-to/cache-rules/#cache-rules-and-page-rules).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from appcdn.behaviour.outcome import outcome
from appcdn.behaviour.probes import Probe, probes
from appcdn.config.project import Project
from appcdn.rules.api_form import action_settings
from appcdn.rules.expression_reader import ParsedExpression, parse
from appcdn.rules.expressions import Request
from appcdn.rules.rulesets import CompiledRule, SiteStage, ZoneRules, apply_rules, site_stages
from appcdn_django.globs import glob_matches

CACHE_PAGE_RULE_ACTIONS = frozenset(
    {
        "cache_level",
        "edge_cache_ttl",
        "browser_cache_ttl",
        "bypass_cache_on_cookie",
        "cache_on_cookie",
        "cache_by_device_type",
        "cache_deception_armor",
        "cache_key_fields",
        "cache_ttl_by_status",
        "explicit_cache_control",
        "origin_cache_control",
        "respect_strong_etags",
        "sort_query_string_for_cache",
        "origin_error_page_pass_thru",
        "serve_stale_content",
    }
)
"""Page-rule settings that decide what is cached, for how long, or under which key
(https://developers.cloudflare.com/rules/page-rules/reference/settings/)."""


@dataclass(frozen=True)
class ExistingRule:
    """An enabled rule of a live entry point, as its settings and its (maybe partly understood) expression."""

    description: str
    expression: ParsedExpression
    settings: Mapping[str, Any]


def existing_rules(entrypoint: Mapping[str, Any] | None) -> list[ExistingRule]:
    if entrypoint is None:
        return []
    return [
        ExistingRule(
            str(r.get("description") or r.get("ref") or r.get("id") or ""),
            parse(str(r.get("expression", ""))),
            action_settings(r),
        )
        for r in entrypoint.get("rules") or []
        if r.get("enabled", True)
    ]


def existing_settings(rules: Sequence[ExistingRule], request: Request) -> Mapping[str, Any] | str:
    """The settings that hold for ``request`` today, or why that cannot be told."""
    effective: dict[str, Any] = {}
    for rule in rules:
        matched = rule.expression.matches(request)
        if matched is None:
            return f"not evaluated: {rule.expression.text}"
        if matched:
            effective.update(rule.settings)
    return effective


def cell(cache_settings: Mapping[str, Any] | str, polish: str | None) -> str:
    """One side of a row: cache, edge and browser TTL (and Polish when a rule sets it), as in the plan."""
    if isinstance(cache_settings, str):
        return cache_settings
    cache, edge, browser = outcome(cache_settings)
    words = f"{cache}, edge {edge}, browser {browser}" if cache == "cached" else cache
    return words + (f"; polish {polish}" if polish else "")


def _polish(settings: Mapping[str, Any] | str) -> str | None:
    return None if isinstance(settings, str) else settings.get("polish")


def _extra_probes(ss: SiteStage, rules: Sequence[ExistingRule]) -> list[Probe]:
    """The path classes the existing rules single out, on this stage's hosts where they may apply."""
    found = []
    for rule in rules:
        for glob in rule.expression.path_globs():
            request = Request(host=ss.hosts[0], path=glob.replace("*", "x"))
            if rule.expression.matches(request) is not False:
                found.append(Probe(ss.hosts, f"{glob} (existing rule {rule.description!r})", request))
    return found


def behaviour_table(
    project: Project,
    zone_name: str,
    compiled: ZoneRules,
    cache_entry: Mapping[str, Any] | None,
    config_entry: Mapping[str, Any] | None,
) -> list[str]:
    """Per host and path class of every stage's sites on the zone: today → after ``pulumi up``."""
    cache_today, config_today = existing_rules(cache_entry), existing_rules(config_entry)
    rows = [("hosts", "requests", "today", "after pulumi up")]
    for ss in site_stages(project, zone_name):
        for probe in probes(ss) + _extra_probes(ss, cache_today):
            today = existing_settings(cache_today, probe.request)
            ours = apply_rules(compiled.cache, probe.request)
            polish = apply_rules(compiled.config, probe.request).get("polish")
            rows.append(
                (
                    ", ".join(probe.hosts),
                    probe.label,
                    cell(today, _polish(existing_settings(config_today, probe.request))),
                    cell(ours, polish),
                )
            )
    polish = project.zone(zone_name).images.polish
    return [
        *columns(rows),
        f"  Polish where no configuration rule sets it: the zone's setting (after pulumi up: {polish})",
    ]


def columns(rows: Sequence[Sequence[str]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return ["  " + "  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in rows]


def _url_requests(pattern: str, hosts: Iterable[str]) -> list[Request]:
    """A request per host of ``hosts`` that a page rule's URL pattern (``*example.com/blog/*``) matches."""
    rest = pattern.split("://", 1)[-1]
    host_pattern, _, path = rest.partition("/")
    return [
        Request(host=h, path="/" + path.replace("*", "x"))
        for h in sorted(hosts)
        if glob_matches(host_pattern.lower(), h)
    ]


def _page_rule_settings(rule: Mapping[str, Any]) -> list[str]:
    return [
        f"{a.get('id')}={a.get('value')}" for a in rule.get("actions") or [] if a.get("id") in CACHE_PAGE_RULE_ACTIONS
    ]


def page_rule_lines(page_rules: Sequence[Mapping[str, Any]], compiled: ZoneRules, hosts: Iterable[str]) -> list[str]:
    """Each page rule that touches caching, with the cache rules of ours that match the same requests."""
    lines = []
    for rule in page_rules:
        settings = _page_rule_settings(rule)
        if not settings:
            continue
        urls = [str((t.get("constraint") or {}).get("value", "")) for t in rule.get("targets") or []]
        requests = [r for u in urls for r in _url_requests(u, hosts)]
        lines.append(f"  {', '.join(urls)} [{', '.join(settings)}] ({rule.get('status', 'active')})")
        if not requests:
            lines.append("    no host of these stacks: no cache rule of ours replaces it; it stays in effect")
            continue
        replaced: dict[tuple[str, str], list[str]] = {}
        for request in requests:
            ours: list[CompiledRule] = [r for r in compiled.cache if r.matches(request)]
            refs = ", ".join(r.ref for r in ours) or "none (Cloudflare's defaults)"
            replaced.setdefault((refs, cell(apply_rules(ours, request), None)), []).append(request.host + request.path)
        lines += [f"    {', '.join(urls_)}: replaced by {refs} → {words}" for (refs, words), urls_ in replaced.items()]
    return lines
