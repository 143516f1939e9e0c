"""Which requests a change of rules treats differently, in words: the behaviour table of two sides at once.

For each host a site serves on a stage, the base's and the head's compiled rules are evaluated together
(``RequestClasses`` with two sides): the classes are the intersections of both sides' classes, and each
gets a pair of outcomes. Classes whose outcome does not change are left out. So that a change does not
repeat every safety bypass (``Cookie lacks "sessionid", no header authorization, …``), its terms may also cover
requests that are bypassed before and after: a change reads "these requests, except those bypassed on both
sides, go from this to that" (``www.example.com /admin/*: now cached!``). Caching a class the base did not
cache weakens safety and is flagged.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from functools import cached_property
from typing import Any

from appcdn.behaviour.outcome import Outcome, effect_outcome
from appcdn.behaviour.request_atoms import Literals, RulesByHost
from appcdn.behaviour.request_space import Effect, Phases, RequestClasses
from appcdn.behaviour.table import Term, drop_order, literal_text, ordered_terms, terms_text
from appcdn.rules.rulesets import CompiledRule

UNCHANGED = "unchanged"
BYPASSED_BOTH = "bypassed before and after"
FIELDS = (
    ("edge_ttl", "edge TTL"),
    ("browser_ttl", "browser TTL"),
    ("polish", "Polish"),
    ("cache_key", "cache key"),
    ("status_ttls", "status TTLs"),
    ("serve_stale", "serve stale"),
    ("other", "other"),
)


@dataclass(frozen=True)
class ZoneSide:
    """One side's compiled rules for a zone, and the zone's own Polish."""

    cache: Sequence[CompiledRule]
    config: Sequence[CompiledRule]
    polish: str

    @cached_property
    def by_host(self) -> tuple[RulesByHost, RulesByHost]:
        return RulesByHost(self.cache), RulesByHost(self.config)


@dataclass(frozen=True)
class SiteHosts:
    """The hosts one stage of a site serves on a zone (app hosts, then its media host)."""

    zone: str
    site: str
    stage: str
    hosts: tuple[str, ...]


def _summary(outcome: Outcome) -> str:
    return ", ".join(f"{label} {getattr(outcome, name)}" for name, label in FIELDS if getattr(outcome, name) != "-")


@dataclass(frozen=True)
class BehaviourChange:
    site: str
    stage: str
    hosts: tuple[str, ...]
    covers: tuple[Term, ...]
    """Where the outcome changes, these requests (conjunctions ORed) go from ``before`` to ``after``."""
    before: Outcome | None
    """None: the host was not served by these rules."""
    after: Outcome | None
    note: str = ""
    """Said of the host as a whole instead (``newly served``)."""

    @property
    def weakens(self) -> bool:
        """Cached where the base did not cache."""
        return (
            self.before is not None
            and self.after is not None
            and self.before.cache != "cached"
            and self.after.cache == "cached"
        )

    @property
    def requests(self) -> str:
        return terms_text(self.covers)

    def words(self) -> str:
        before, after = self.before, self.after
        if self.note:
            return self.note
        if before is None:
            return f"newly served: {after.cache if after else ''}" + (
                f" ({_summary(after)})" if after and _summary(after) else ""
            )
        if after is None:
            return "no longer served by these rules"
        if self.weakens:
            return "now cached!" + (f" ({_summary(after)})" if _summary(after) else "")
        if before.cache == "cached" and after.cache != "cached":
            return f"no longer cached ({after.cache})"
        changes = [f"cache {before.cache} → {after.cache}"] if before.cache != after.cache else []
        changes += [
            f"{label} {getattr(before, name)} → {getattr(after, name)}"
            for name, label in FIELDS
            if getattr(before, name) != getattr(after, name)
        ]
        return ", ".join(changes)

    def line(self) -> str:
        return f"{', '.join(self.hosts)}{'' if self.note else ' ' + self.requests}: {self.words()}"

    def as_json(self) -> dict[str, Any]:
        return {
            "site": self.site,
            "stage": self.stage,
            "hosts": list(self.hosts),
            "requests": "" if self.note else self.requests,
            "covers": [[literal_text(a, v) for a, v in t] for t in self.covers],
            "weakens_safety": self.weakens,
            "before": asdict(self.before) if self.before else None,
            "after": asdict(self.after) if self.after else None,
            "change": self.words(),
        }


Key = tuple[Outcome | None, Outcome | None] | str


def _side(zone: ZoneSide | None, host: str) -> Phases:
    if zone is None:
        return Phases((), ())
    cache, config = zone.by_host
    return Phases(cache.on(host), config.on(host))


def host_changes(host: str, base: ZoneSide | None, head: ZoneSide | None) -> dict[Key, tuple[Term, ...]]:
    """(before, after) → where the outcome changes, the requests to ``host`` that change so. A side that
    does not serve the host is None (its outcome too)."""
    classes = RequestClasses([_side(base, host), _side(head, host)])

    def key(effects: tuple[Effect, ...]) -> Key:
        before = effect_outcome(effects[0], base.polish) if base else None
        after = effect_outcome(effects[1], head.polish) if head else None
        if {before, after} <= {None, Outcome("bypassed")}:
            return BYPASSED_BOTH  # a new host's bypassed requests are left out too; the host gets a line
        return UNCHANGED if before == after else (before, after)

    described: dict[Key, list[Literals]] = classes.describe(
        key, drop_order, absorbs=BYPASSED_BOTH, wanted=lambda k: k != UNCHANGED
    )
    return {k: ordered_terms(terms) for k, terms in described.items()}


def behaviour_changes(
    base_sites: Sequence[SiteHosts],
    head_sites: Sequence[SiteHosts],
    base_zones: Mapping[str, ZoneSide],
    head_zones: Mapping[str, ZoneSide],
) -> list[BehaviourChange]:
    """Every change of every host of every site and stage either side shows, hosts with the same change
    together; the changes that weaken safety first."""
    served: dict[tuple[str, str, str], dict[str, list[str]]] = {}
    for side, sites in (("base", base_sites), ("head", head_sites)):
        for s in sites:
            hosts = served.setdefault((s.zone, s.site, s.stage), {"base": [], "head": []})
            hosts[side] = list(s.hosts)
    grouped: dict[tuple[str, str, Key, tuple[Term, ...]], list[str]] = {}
    for (zone, site, stage), hosts in served.items():
        for host in dict.fromkeys(hosts["head"] + hosts["base"]):
            base = base_zones.get(zone) if host in hosts["base"] else None
            head = head_zones.get(zone) if host in hosts["head"] else None
            if (base is None) != (head is None):
                grouped.setdefault(
                    (site, stage, "newly served" if base is None else "no longer served", ((),)), []
                ).append(host)
            for key, terms in host_changes(host, base, head).items():
                grouped.setdefault((site, stage, key, terms), []).append(host)
    changes = [
        BehaviourChange(site, stage, tuple(hosts), terms, *key)
        if isinstance(key, tuple)
        else BehaviourChange(site, stage, tuple(hosts), terms, None, None, key)
        for (site, stage, key, terms), hosts in grouped.items()
        if key not in (UNCHANGED, BYPASSED_BOTH)
    ]
    return sorted(changes, key=lambda c: (not c.weakens, c.site, c.stage, c.hosts, not c.note, c.requests))
