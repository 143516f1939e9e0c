"""Compile the neutral policies of every site on a zone into the zone's phase rulesets.

Cloudflare semantics (FACTS.md): all matching rules of a phase apply, in order, and a later rule's
setting overrides an earlier one's. Two rules with the same settings are merged into one
(``(a) or (b)``) only when that cannot change the outcome of any request: the rule moved up past the
rules in between must not conflict with any of them — they never match the same host, or they
agree on every setting both make. That is how a stack fits its plan's rule limit without changing
what is cached.

Rules are emitted in the form the API returns (only the settings made, lists sorted, refs stable),
so that a second preview after ``up`` shows no change.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from appcdn.config import (
    RULES_PER_PHASE, STAGES, CachePolicy, CacheRule, ConfigError, ImageRule, Match, MediaConfig, Problem, Site, Stage,
    StackConfig, media_hosts,
)
from appcdn.defaults import stage_cache_rules
from appcdn.policy.expressions import MAX_EXPRESSION_LENGTH, Request, any_expression, match_expression, request_matches
from appcdn.policy.media import media_edge_rules

CACHE_PHASE = "http_request_cache_settings"
CONFIG_PHASE = "http_config_settings"


@dataclass(frozen=True)
class Scope:
    """Where a neutral rule applies: one site's hosts on one stage, narrowed by its match."""

    hosts: tuple[str, ...]
    match: Match

    @property
    def effective_hosts(self) -> frozenset[str]:
        return frozenset(self.match.hosts or self.hosts)

    def expression(self) -> str:
        return match_expression(self.hosts, self.match)

    def matches(self, request: Request) -> bool:
        return request_matches(request, self.hosts, self.match)


@dataclass(frozen=True)
class CompiledRule:
    """One rule of a phase ruleset: the settings it makes and the scopes (ORed) it applies to."""

    ref: str
    names: tuple[str, ...]
    action: str
    settings: tuple[tuple[str, Any], ...]
    scopes: tuple[Scope, ...]

    @property
    def expression(self) -> str:
        """The scopes ORed, simplified exactly: scopes that differ only in their hosts share one host
        test, and a scope implied by a host-only scope of the same rule is dropped."""
        host_only = Match().model_dump_json(exclude={"hosts"})
        hosts_by_key: dict[str, set[str]] = {}
        match_by_key: dict[str, Match] = {}
        for scope in self.scopes:
            key = scope.match.model_dump_json(exclude={"hosts"})
            hosts_by_key.setdefault(key, set()).update(scope.effective_hosts)
            match_by_key[key] = scope.match.model_copy(update={"hosts": []})
        everything = hosts_by_key.get(host_only, set())
        parts = []
        for key, hosts in hosts_by_key.items():
            if key != host_only:
                hosts = hosts - everything
            if hosts:
                parts.append(match_expression(sorted(hosts), match_by_key[key]))
        return any_expression(parts)

    @property
    def hosts(self) -> frozenset[str]:
        return frozenset().union(*(s.effective_hosts for s in self.scopes))

    def matches(self, request: Request) -> bool:
        return any(s.matches(request) for s in self.scopes)

    def to_rule(self) -> dict[str, Any]:
        """The rule as the provider takes it (pulumi_cloudflare ``RulesetRuleArgsDict``)."""
        return {
            "ref": self.ref,
            "description": "appcdn: " + ", ".join(self.names),
            "expression": self.expression,
            "action": self.action,
            "action_parameters": dict(self.settings),
            "enabled": True,
        }


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def _conflict(a: CompiledRule, b: CompiledRule) -> bool:
    """Whether running ``a`` and ``b`` in the other order could change a request's outcome."""
    if not a.hosts & b.hosts:
        return False
    b_settings = dict(b.settings)
    return any(k in b_settings and _canonical(b_settings[k]) != _canonical(v) for k, v in a.settings)


def merge_rules(rules: Sequence[CompiledRule]) -> list[CompiledRule]:
    """Merge rules with identical settings wherever the order of application allows it."""
    merged: list[CompiledRule] = []
    for rule in rules:
        for i, group in enumerate(merged):
            if group.action != rule.action or _canonical(group.settings) != _canonical(rule.settings):
                continue
            if any(_conflict(rule, later) for later in merged[i + 1:]):
                continue
            candidate = CompiledRule(group.ref, group.names + rule.names, group.action, group.settings,
                                     group.scopes + rule.scopes)
            if len(candidate.expression) > MAX_EXPRESSION_LENGTH:
                continue
            merged[i] = candidate
            break
        else:
            merged.append(rule)
    return merged


def cache_settings(rule: CacheRule) -> dict[str, Any]:
    """A neutral cache rule's ``set_cache_settings`` action parameters, in the API's form."""
    if rule.action == "bypass":
        return {"cache": False}
    params: dict[str, Any] = {"cache": True}
    if rule.edge_ttl is not None:
        edge: dict[str, Any] = {"mode": rule.edge_ttl.mode}
        if rule.edge_ttl.default is not None:
            edge["default"] = rule.edge_ttl.default
        ttls = []
        for sc in sorted(rule.edge_ttl.status_codes, key=lambda s: (s.code or s.from_ or 0, s.to or 0)):
            if sc.code is not None:
                ttls.append({"status_code": sc.code, "value": sc.ttl})
            else:
                bounds = {k: v for k, v in (("from_", sc.from_), ("to", sc.to)) if v is not None}
                ttls.append({"status_code_range": bounds, "value": sc.ttl})
        if ttls:
            edge["status_code_ttls"] = ttls
        params["edge_ttl"] = edge
    if rule.browser_ttl is not None:
        browser: dict[str, Any] = {"mode": rule.browser_ttl.mode}
        if rule.browser_ttl.default is not None:
            browser["default"] = rule.browser_ttl.default
        params["browser_ttl"] = browser
    if rule.cache_key is not None:
        key: dict[str, Any] = {}
        if rule.cache_key.deception_armor is not None:
            key["cache_deception_armor"] = rule.cache_key.deception_armor
        if rule.cache_key.ignore_query_order is not None:
            key["ignore_query_strings_order"] = rule.cache_key.ignore_query_order
        qs = rule.cache_key.query_string
        if qs is not None:
            which, names = ("include", qs.include) if qs.include is not None else ("exclude", qs.exclude)
            if names == []:  # "include none" is "exclude all", the form the API keeps
                which, names = ("exclude" if which == "include" else "include"), "*"
            key["custom_key"] = {"query_string": {which: {"all": True} if names == "*" else {"lists": sorted(set(names))}}}
        if key:
            params["cache_key"] = key
    if rule.serve_stale is not None:
        params["serve_stale"] = {"disable_stale_while_updating": not rule.serve_stale}
    if rule.origin_error_passthrough is not None:
        params["origin_error_page_passthru"] = rule.origin_error_passthrough
    if rule.respect_strong_etags is not None:
        params["respect_strong_etags"] = rule.respect_strong_etags
    return params


def _ordered(settings: dict[str, Any]) -> tuple[tuple[str, Any], ...]:
    return tuple(sorted(settings.items()))


@dataclass(frozen=True)
class SiteStage:
    """One stage of a site as the zone's owner composes it."""

    site: str
    stage: Stage
    hosts: list[str]
    cache: CachePolicy
    media: MediaConfig | None


def site_stages(site: Site, own_stage: Stage) -> list[SiteStage]:
    """Every stage the site declares, in a fixed order."""
    found = {own_stage: SiteStage(site.name, own_stage, list(site.hosts), site.cache, site.media)} | {
        s: SiteStage(site.name, s, list(o.hosts), o.cache, o.media) for s, o in site.other_stages.items()}
    return [found[s] for s in STAGES if s in found]


def _zone_sites(config: StackConfig, zone_name: str) -> list[Site]:
    return [s for s in config.sites if s.zone == zone_name]


def zone_cache_rules(config: StackConfig, zone_name: str) -> list[CompiledRule]:
    """The zone's cache rules: every site on it, every stage the owner composes, merged."""
    return merge_rules(scoped_cache_rules(config, zone_name))


def scoped_cache_rules(config: StackConfig, zone_name: str) -> list[CompiledRule]:
    """The zone's cache rules one per neutral rule, in order of application, before merging."""
    plan = config.zones[zone_name].plan
    rules = []
    for site in _zone_sites(config, zone_name):
        for ss in site_stages(site, config.stage):
            named = [(r.name, r.match, cache_settings(r), ss.hosts) for r in stage_cache_rules(ss.cache, ss.stage)]
            if ss.media is not None:
                named += [(n, m, settings, media_hosts(ss.media)) for n, m, settings in
                          media_edge_rules(ss.media, plan)]
            for name, match, settings, hosts in named:
                rules.append(CompiledRule(
                    ref=f"{ss.site}-{ss.stage}-{name}", names=(f"{ss.site}/{ss.stage}/{name}",),
                    action="set_cache_settings", settings=_ordered(settings), scopes=(Scope(tuple(hosts), match),),
                ))
    return rules


def image_rule_settings(rule: ImageRule) -> dict[str, Any]:
    return {"polish": rule.polish}


def zone_config_rules(config: StackConfig, zone_name: str) -> list[CompiledRule]:
    """The zone's configuration rules (per-path Polish) of the stack's own stage, merged."""
    rules = []
    for site in _zone_sites(config, zone_name):
        for rule in site.images:
            rules.append(CompiledRule(
                ref=f"{site.name}-{config.stage}-{rule.name}", names=(f"{site.name}/{config.stage}/{rule.name}",),
                action="set_config", settings=_ordered(image_rule_settings(rule)),
                scopes=(Scope(tuple(site.hosts), rule.match),),
            ))
    return merge_rules(rules)


def zone_media_domains(config: StackConfig, zone_name: str) -> list[SiteStage]:
    """The site stages on the zone whose media is served on a custom domain (one Cloud Connector rule each)."""
    return [ss for site in _zone_sites(config, zone_name) for ss in site_stages(site, config.stage)
            if media_hosts(ss.media)]


@dataclass(frozen=True)
class ZoneRules:
    zone: str
    cache: list[CompiledRule]
    config: list[CompiledRule]
    media_domains: list[SiteStage]


def _limit_problems(config: StackConfig, zone_name: str, phase: str, count: int, keys: str) -> Iterable[Problem]:
    plan = config.zones[zone_name].plan
    limit = RULES_PER_PHASE[plan]
    if count > limit:
        sites = ", ".join(f"sites[{i}]" for i, s in enumerate(config.sites) if s.zone == zone_name)
        yield Problem(f"zones.{zone_name}.plan",
                      f"the {phase} rules of this zone ({keys} of {sites}) compile to {count} rules after merging; "
                      f"the {plan} plan allows {limit}")


def compile_zones(config: StackConfig) -> dict[str, ZoneRules]:
    """The phase rules of every zone this stack owns. Raises ConfigError when a zone's plan is too small."""
    compiled, problems = {}, []
    for zone_name in config.zones:
        if not config.owns(zone_name):
            continue
        rules = ZoneRules(zone_name, zone_cache_rules(config, zone_name), zone_config_rules(config, zone_name),
                          zone_media_domains(config, zone_name))
        problems += _limit_problems(config, zone_name, CACHE_PHASE, len(rules.cache), "cache and media")
        problems += _limit_problems(config, zone_name, CONFIG_PHASE, len(rules.config), "images")
        problems += _limit_problems(config, zone_name, "Cloud Connector", len(rules.media_domains), "media.domain")
        compiled[zone_name] = rules
    if problems:
        raise ConfigError(problems)
    return compiled


def apply_rules(rules: Iterable[CompiledRule], request: Request) -> dict[str, Any]:
    """The settings that hold for ``request`` after every matching rule has applied, in order."""
    effective: dict[str, Any] = {}
    for rule in rules:
        if rule.matches(request):
            effective.update(rule.settings)
    return effective
