"""Compile the neutral policies of every site on a zone into the zone's phase rulesets.

Cloudflare semantics: all matching rules of a phase apply, in order, and a later rule's setting overrides
an earlier one's (https://developers.cloudflare.com/cache/how-to/cache-rules/order/). Two rules with the same
settings are merged into one
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
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from appcdn.config.cache import CachePolicy, ImageRule, Match
from appcdn.config.fields import MAX_EXPRESSION_LENGTH, Stage
from appcdn.config.media import MediaConfig, media_hosts
from appcdn.config.plans import RULES_PER_PHASE
from appcdn.config.problems import ConfigError, Problem
from appcdn.config.project import Project
from appcdn.rules.cache_rules import cache_settings, stage_cache_rules
from appcdn.rules.expressions import (
    HOST_FIELD,
    Request,
    any_expression,
    any_of_length,
    criteria_expression,
    on_hosts,
    quote,
    request_matches,
)
from appcdn.rules.media import media_edge_rules

CACHE_PHASE = "http_request_cache_settings"
CONFIG_PHASE = "http_config_settings"


@dataclass(frozen=True)
class Scope:
    """Where a neutral rule applies: one site's hosts on one stage, narrowed by its match."""

    hosts: tuple[str, ...]
    match: Match

    @cached_property
    def effective_hosts(self) -> frozenset[str]:
        return frozenset(self.match.hosts or self.hosts)

    @cached_property
    def criteria(self) -> str:
        """The match without its hosts, as text: scopes with the same criteria share one host test."""
        return self.match.model_dump_json(exclude={"hosts"})

    @cached_property
    def criteria_expression(self) -> str:
        """What the match asks of a request besides its host, as an expression ("" for nothing)."""
        return criteria_expression(self.match)

    def matches(self, request: Request) -> bool:
        return request_matches(request, self.hosts, self.match)


HOST_ONLY = Match().model_dump_json(exclude={"hosts"})
"""The criteria of a scope that only names hosts: it matches every request to them."""


def _quoted(hosts: Iterable[str]) -> int:
    return sum(len(quote(h)) for h in hosts)


def _text_length(shown: int, quoted: int, criteria: str) -> int:
    """Of a part's text (``on_hosts``) naming ``shown`` hosts whose quoted names take ``quoted`` characters."""
    if not shown:
        return 0
    return any_of_length(HOST_FIELD, shown, quoted) + (len(" and ") + len(criteria) if criteria else 0)


class _Part:
    """The scopes of one criteria in a rule: their hosts, and those its text names (all but the hosts a host-only
    scope of the rule matches already), with the length of their quoted names."""

    def __init__(self, criteria: str) -> None:
        self.criteria = criteria
        self.hosts: set[str] = set()
        self.shown: set[str] = set()
        self.quoted = 0

    def length(self) -> int:
        return _text_length(len(self.shown), self.quoted, self.criteria)

    def text(self) -> str:
        return on_hosts(self.shown, self.criteria) if self.shown else ""


def _joined_length(length: int, count: int) -> int:
    """Of ``any_expression`` of ``count`` texts ``length`` characters long together: each in parentheses, joined
    by `` or ``, when there are several."""
    return length if count <= 1 else length + 2 * count + 4 * (count - 1)


def _least_growth(rule: CompiledRule) -> int:
    """The fewest characters ``rule`` adds to the expression of a rule that names none of its hosts: each of its
    hosts joins some part's host test (a host-only scope's, or its criteria's) as a quoted name and a space at
    least (``any_of_length``; from one value to two, three more; a new part, more again), so at least the
    shortest quoted host and one; nothing for a rule without hosts."""
    return min((len(quote(h)) + 1 for h in rule.hosts), default=0)


@dataclass
class _Change:
    """What adding scopes to a rule does: the hosts new to each criteria (with a scope of it), and for each part
    whose text changes, the count of hosts it then names and the length of their quoted names."""

    new: dict[str, set[str]]
    scopes: dict[str, Scope]
    shown: dict[str, tuple[int, int]] = field(default_factory=dict)


class _Parts:
    """A rule's scopes ORed, simplified exactly: scopes that differ only in their hosts share one host test, and a
    scope implied by a host-only scope of the same rule is dropped. Kept by criteria, with each part's text length
    counted as hosts join, so that trying a rule against a growing one costs what the joining rule brings, not
    what the growing rule holds; the texts are written once, by ``expression``."""

    def __init__(self) -> None:
        self.parts: dict[str, _Part] = {}
        self.length = 0
        """Of every part's text together, and the count of parts with text."""
        self.count = 0

    def changes(self, scopes: Iterable[Scope]) -> _Change:
        """What adding ``scopes`` changes."""
        added: dict[str, set[str]] = {}
        first: dict[str, Scope] = {}
        for scope in scopes:
            added.setdefault(scope.criteria, set()).update(scope.effective_hosts)
            first.setdefault(scope.criteria, scope)
        new = {}
        for key, hosts in added.items():
            fresh = hosts - self.parts[key].hosts if key in self.parts else hosts
            if fresh:
                new[key] = fresh
        change = _Change(new, first)
        host_only = self.parts.get(HOST_ONLY)
        everything = host_only.hosts if host_only else set()
        gained = new.get(HOST_ONLY, set())  # hosts the rule will match whatever the request: no other part names them
        for key in [*self.parts, *(k for k in new if k not in self.parts)] if gained else list(new):
            part = self.parts.get(key)
            shown, quoted = (len(part.shown), part.quoted) if part else (0, 0)
            fresh_hosts = new.get(key, set())
            if key != HOST_ONLY:
                if part and gained:
                    gone = [h for h in gained if h in part.shown]
                    shown, quoted = shown - len(gone), quoted - _quoted(gone)
                fresh_hosts = {h for h in fresh_hosts if h not in everything and h not in gained}
            change.shown[key] = (shown + len(fresh_hosts), quoted + _quoted(fresh_hosts))
        return change

    def length_with(self, change: _Change) -> int:
        """The expression's length once ``change`` is applied (``any_expression`` of the parts' texts)."""
        length, count = self.length, self.count
        for key, (shown, quoted) in change.shown.items():
            part = self.parts.get(key)
            old = part.length() if part else 0
            text = _text_length(shown, quoted, part.criteria if part else change.scopes[key].criteria_expression)
            length += text - old
            count += bool(text) - bool(old)
        return _joined_length(length, count)

    def full_length(self) -> int:
        """The expression's length as it is."""
        return _joined_length(self.length, self.count)

    def apply(self, change: _Change) -> None:
        for key in change.shown:  # new parts in the order their criteria came
            if key not in self.parts:
                self.parts[key] = _Part(change.scopes[key].criteria_expression)
        gained = change.new.get(HOST_ONLY, set())
        if gained:
            self.parts[HOST_ONLY].hosts |= gained
        everything = self.parts[HOST_ONLY].hosts if HOST_ONLY in self.parts else set()
        for key, (_, quoted) in change.shown.items():
            part = self.parts[key]
            old = part.length()
            fresh = change.new.get(key, set())
            if key == HOST_ONLY:
                part.shown |= fresh
            else:
                part.hosts |= fresh
                part.shown -= gained
                part.shown |= fresh - everything
            part.quoted = quoted
            text = part.length()
            self.length += text - old
            self.count += bool(text) - bool(old)

    def expression(self) -> str:
        return any_expression(text for text in (part.text() for part in self.parts.values()) if text)


@dataclass(frozen=True)
class CompiledRule:
    """One rule of a phase ruleset: the settings it makes and the scopes (ORed) it applies to."""

    ref: str
    names: tuple[str, ...]
    action: str
    settings: tuple[tuple[str, Any], ...]
    scopes: tuple[Scope, ...]

    @cached_property
    def expression(self) -> str:
        """The scopes ORed, simplified exactly (``_Parts``)."""
        parts = _Parts()
        parts.apply(parts.changes(self.scopes))
        return parts.expression()

    @cached_property
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


def _conflict(a: tuple[tuple[str, Any], ...], b: tuple[tuple[str, Any], ...]) -> bool:
    """Whether rules with settings ``a`` and ``b`` on a common host could give a request another outcome when
    run in the other order: they make a setting differently."""
    b_settings = dict(b)
    return any(k in b_settings and _canonical(b_settings[k]) != _canonical(v) for k, v in a)


def merge_rules(rules: Sequence[CompiledRule]) -> list[CompiledRule]:
    """Merge rules with identical settings wherever the order of application allows it: each rule joins the
    first earlier rule with its settings that no rule after that one conflicts with (on a common host), if
    the joined expression stays within Cloudflare's length.

    Indexed, so the cost grows with the rules, not with their square: the merged rules by settings and by host
    (a rule can only conflict with those on its hosts), each conflict of two settings decided once, and a
    growing rule's expression kept by part, only the parts a joining rule changes written again."""
    merged: list[CompiledRule] = []
    canonical: list[str] = []  # each merged rule's settings, as text
    by_settings: dict[tuple[str, str], list[int]] = {}
    by_host: dict[str, set[int]] = {}
    conflicts: dict[tuple[str, str], bool] = {}
    parts: list[_Parts] = []
    for rule in rules:
        settings = _canonical(rule.settings)
        last_conflict = -1
        near = set().union(*(by_host.get(h, ()) for h in rule.hosts))  # merged rules sharing a host with it
        least = _least_growth(rule)
        for i in near:
            pair = (settings, canonical[i])
            if pair not in conflicts:
                conflicts[pair] = _conflict(rule.settings, merged[i].settings)
            if i > last_conflict and conflicts[pair]:
                last_conflict = i
        for i in by_settings.get((rule.action, settings), []):
            if i <= last_conflict:
                continue
            if i not in near and parts[i].full_length() + least > MAX_EXPRESSION_LENGTH:
                continue  # full for any rule of new hosts: what trying it would find, without trying
            group, changed = merged[i], parts[i].changes(rule.scopes)
            if parts[i].length_with(changed) <= MAX_EXPRESSION_LENGTH:
                parts[i].apply(changed)
                merged[i] = CompiledRule(
                    group.ref, group.names + rule.names, group.action, group.settings, group.scopes + rule.scopes
                )
                break
        else:
            i = len(merged)
            merged.append(rule)
            canonical.append(settings)
            parts.append(_Parts())
            parts[i].apply(parts[i].changes(rule.scopes))
            by_settings.setdefault((rule.action, settings), []).append(i)
        for h in rule.hosts:
            by_host.setdefault(h, set()).add(i)
    return merged


def _ordered(settings: dict[str, Any]) -> tuple[tuple[str, Any], ...]:
    return tuple(sorted(settings.items()))


@dataclass(frozen=True)
class SiteStage:
    """One stage of a site, as the zone's owner composes it from that stage's own stack file."""

    site: str
    stage: Stage
    hosts: list[str]
    cache: CachePolicy
    images: list[ImageRule]
    media: MediaConfig | None


def site_stages(project: Project, zone_name: str) -> list[SiteStage]:
    """Every stage's sites on the zone, in a fixed order."""
    return [
        SiteStage(site.name, stage, list(site.hosts), site.cache, list(site.images), site.media)
        for stage, site in project.sites_on(zone_name)
    ]


def scoped_cache_rules(project: Project, zone_name: str) -> list[CompiledRule]:
    """The zone's cache rules one per neutral rule, in order of application, before merging."""
    plan = project.zone(zone_name).plan
    rules = []
    for ss in site_stages(project, zone_name):
        named = [(r.name, r.match, cache_settings(r), ss.hosts) for r in stage_cache_rules(ss.cache, ss.stage)]
        if ss.media is not None:
            named += [(n, m, settings, media_hosts(ss.media)) for n, m, settings in media_edge_rules(ss.media, plan)]
        for name, match, settings, hosts in named:
            rules.append(
                CompiledRule(
                    ref=f"{ss.site}-{ss.stage}-{name}",
                    names=(f"{ss.site}/{ss.stage}/{name}",),
                    action="set_cache_settings",
                    settings=_ordered(settings),
                    scopes=(Scope(tuple(hosts), match),),
                )
            )
    return rules


def zone_cache_rules(project: Project, zone_name: str) -> list[CompiledRule]:
    """The zone's cache rules: every site on it, every stage, merged."""
    return merge_rules(scoped_cache_rules(project, zone_name))


def scoped_config_rules(project: Project, zone_name: str) -> list[CompiledRule]:
    """The zone's configuration rules (per-path Polish) of every stage, one per image rule, before merging."""
    return [
        CompiledRule(
            ref=f"{ss.site}-{ss.stage}-{rule.name}",
            names=(f"{ss.site}/{ss.stage}/{rule.name}",),
            action="set_config",
            settings=_ordered({"polish": rule.polish}),
            scopes=(Scope(tuple(ss.hosts), rule.match),),
        )
        for ss in site_stages(project, zone_name)
        for rule in ss.images
    ]


def zone_config_rules(project: Project, zone_name: str) -> list[CompiledRule]:
    """The zone's configuration rules, merged."""
    return merge_rules(scoped_config_rules(project, zone_name))


@dataclass(frozen=True)
class ZoneRules:
    """What the zone's owner declares for the zone: its phase rules and the stages with a media domain."""

    zone: str
    cache: list[CompiledRule]
    config: list[CompiledRule]
    media_domains: list[SiteStage]


def _limit_problems(project: Project, zone_name: str, phase: str, count: int, keys: str) -> Iterable[Problem]:
    owner = project.zone_owner(zone_name)
    plan = project.zone(zone_name).plan
    limit = RULES_PER_PHASE[plan]
    if count > limit:
        yield Problem(
            f"zones.{zone_name}.plan",
            f"the {phase} rules of this zone ({keys} of every stage's sites on it) compile to {count} "
            f"rules after merging; the {plan} plan allows {limit}",
            project.files.get(owner),
        )


def _rule_path(project: Project, rule: CompiledRule) -> tuple[str, str | None]:
    """Where a (not yet merged) rule comes from: its key path and file."""
    site_name, stage, name = rule.names[0].split("/")
    config = project.stacks[stage]  # type: ignore[index]
    i, site = next((i, s) for i, s in enumerate(config.sites) if s.name == site_name)
    rules = [r.name for r in (site.images if rule.action == "set_config" else site.cache.rules)]
    key = "images" if rule.action == "set_config" else "cache.rules"
    path = (
        f"sites[{i}].{key}[{rules.index(name)}]"
        if name in rules
        else f"sites[{i}].media"
        if name.startswith("media-")
        else f"sites[{i}].hosts"
    )
    return path, project.files.get(stage)  # type: ignore[call-overload]


def _expression_problems(project: Project, rules: Iterable[CompiledRule]) -> Iterable[Problem]:
    """https://developers.cloudflare.com/ruleset-engine/rules-language/expressions/#maximum-rule-expression-length"""
    too_long: dict[tuple[str, str | None], list[tuple[str, int]]] = {}
    for rule in rules:
        if len(rule.expression) > MAX_EXPRESSION_LENGTH:
            too_long.setdefault(_rule_path(project, rule), []).append((rule.names[0], len(rule.expression)))
    for (path, file), found in too_long.items():
        names, longest = ", ".join(name for name, _ in found), max(n for _, n in found)
        what = (
            f"rules {names} compile to Cloudflare expressions of up to"
            if len(found) > 1
            else f"rule {names} compiles to a Cloudflare expression of"
        )
        yield Problem(
            path,
            f"{what} {longest} characters; Cloudflare takes at most {MAX_EXPRESSION_LENGTH} for one "
            "rule: split it (fewer hosts, prefixes or paths per rule or per site)",
            file,
        )


def compile_zones(project: Project) -> dict[str, ZoneRules]:
    """The phase rules of every zone the stack owns or serves sites on, composed from every stage's stack.
    Raises ConfigError when a rule's expression is too long or a zone's plan too small."""
    compiled: dict[str, ZoneRules] = {}
    problems: list[Problem] = []
    for zone_name in project.zones_in_use():
        cache, config = scoped_cache_rules(project, zone_name), scoped_config_rules(project, zone_name)
        problems += _expression_problems(project, [*cache, *config])
        rules = ZoneRules(
            zone_name,
            merge_rules(cache),
            merge_rules(config),
            [ss for ss in site_stages(project, zone_name) if media_hosts(ss.media)],
        )
        problems += _limit_problems(project, zone_name, CACHE_PHASE, len(rules.cache), "cache and media")
        problems += _limit_problems(project, zone_name, CONFIG_PHASE, len(rules.config), "images")
        problems += _limit_problems(project, zone_name, "Cloud Connector", len(rules.media_domains), "media.domain")
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
