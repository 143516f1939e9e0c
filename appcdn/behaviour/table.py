"""The effective cache behaviour of each site: every request to its hosts, by the classes the rules tell apart.

Nothing is probed. For each host, the zone's *compiled* (merged) cache and configuration rules are split
exactly into classes of requests (``appcdn.behaviour.request_space``: every path criterion, method, cookie,
header and query argument the rules on that host use), each class gets its outcome in Cloudflare's
stacking order, classes with the same outcome are merged, and each row says what it covers. Hosts with
the same rows share them.

Cloudflare's own rules the table applies: only GET and HEAD are cached (HEAD as GET, but a rule limited
to GET does not match it); without a browser-TTL rule the zone's Browser Cache TTL applies (4 h unless
changed in the dashboard); Polish works on images in Cloudflare's cache, so bypassed rows have none.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from appcdn.behaviour import request_atoms
from appcdn.behaviour.outcome import Outcome, effect_outcome
from appcdn.behaviour.request_atoms import Atom, RulesByHost
from appcdn.behaviour.request_space import Phases, RequestClasses
from appcdn.config.media import media_hosts
from appcdn.config.plans import RULES_PER_PHASE
from appcdn.config.project import Project
from appcdn.rules.expressions import Request
from appcdn.rules.rulesets import SiteStage, ZoneRules, site_stages

Term = tuple[tuple[Atom, bool], ...]


def literal_text(atom: Atom, value: bool) -> str:
    kind, name = atom
    if kind in request_atoms.PATH_KINDS:
        text = {"prefix": f"{name}*", "glob": name, "segment": f"*/{name}[/*] (any case)", "extension": f"*.{name}"}[
            kind
        ]
        return text if value else f"not {text}"
    if atom == request_atoms.CACHEABLE:
        return "method GET|HEAD" if value else "methods other than GET, HEAD"
    positive = {
        "method": f"method {name}",
        "cookie": f'Cookie contains "{name}"',
        "header": f"header {name}",
        "truncated": "header list truncated",
        "query": f"?{name}",
        "expr": f"expr {name}",
    }[kind]
    negative = {
        "method": f"method not {name}",
        "cookie": f'Cookie lacks "{name}"',
        "header": f"no header {name}",
        "truncated": "header list complete",
        "query": f"no ?{name}",
        "expr": f"not expr {name}",
    }[kind]
    return positive if value else negative


KIND_ORDER = {
    kind: i
    for i, kind in enumerate(
        ("prefix", "glob", "segment", "extension", "method", "cookie", "header", "truncated", "query", "expr")
    )
}


def _literal_order(literal: tuple[Atom, bool]) -> tuple[bool, int, str]:
    (kind, name), value = literal
    return (not value, KIND_ORDER[kind], name)


def term_text(term: Term) -> str:
    return ", ".join(literal_text(atom, value) for atom, value in sorted(term, key=_literal_order)) or "any request"


def _alternatives(terms: Sequence[Term]) -> str:
    """Terms ORed; one-literal terms of one kind as one: ``?edit|?preview``, ``Cookie contains "a"|"b"``."""
    by_kind: dict[str, list[str]] = {}
    rest: list[str] = []
    for term in terms:
        ((atom, value),) = term if len(term) == 1 else ((("", ""), False),)
        if value and atom[0] in KIND_ORDER and atom != request_atoms.CACHEABLE:
            by_kind.setdefault(atom[0], []).append(literal_text(atom, True))
        else:
            rest.append(term_text(term))
    grouped = []
    for kind, texts in sorted(by_kind.items(), key=lambda item: KIND_ORDER[item[0]]):
        prefix = (
            "Cookie contains "
            if kind == "cookie"
            else texts[0].split(" ", 1)[0] + " "
            if kind in ("method", "header", "expr")
            else ""
        )
        grouped.append(prefix + "|".join(t.removeprefix(prefix) for t in texts))
    return " or ".join(grouped + rest)


def terms_text(terms: Sequence[Term]) -> str:
    """Terms ORed, the literals all of them share said once: ``(/feed/* or /*/feed/*), Cookie lacks "sessionid"``."""
    if len(terms) == 1:
        return term_text(terms[0])
    common = set(terms[0]).intersection(*terms[1:])
    if not common:
        return _alternatives(terms)
    return (
        f"({_alternatives([tuple(lit for lit in t if lit not in common) for t in terms])}), {term_text(tuple(common))}"
    )


@dataclass(frozen=True)
class BehaviourRow:
    site: str
    stage: str
    hosts: tuple[str, ...]
    covers: tuple[Term, ...]
    """Conjunctions of literals, ORed: exactly the requests to ``hosts`` this row is about."""
    outcome: Outcome
    example: Request
    """One request the row covers (the shortest path, only the cookies, headers and arguments it needs)."""

    @property
    def requests(self) -> str:
        return terms_text(self.covers)

    def singles(self) -> set[tuple[Atom, bool]]:
        """The literals that alone make a request this row's (its one-literal terms)."""
        return {t[0] for t in self.covers if len(t) == 1}

    def matches(self, request: Request) -> bool:
        return request.host.lower() in self.hosts and any(request_atoms.covers(dict(t), request) for t in self.covers)

    def as_json(self) -> dict[str, Any]:
        return {
            "site": self.site,
            "stage": self.stage,
            "hosts": ", ".join(self.hosts),
            "requests": self.requests,
            "covers": [[literal_text(a, v) for a, v in sorted(t, key=_literal_order)] for t in self.covers],
            "example": request_text(self.example),
            **asdict(self.outcome),
        }


def request_text(r: Request) -> str:
    """``GET www.example.com/static/?edit cookie sessionid``."""
    query = "?" + "&".join(sorted(r.query_args)) if r.query_args else ""
    extras = [f"cookie {c}" for c in sorted(r.cookies)] + [f"header {h}" for h in sorted(r.headers)]
    extras += ["header list truncated"] * r.headers_truncated + [f"expr {e}" for e in sorted(r.true_expressions)]
    return " ".join([f"{r.method} {r.host}{r.path}{query}", *extras])


def drop_order(atom: Atom, value: bool) -> tuple[bool, int, Atom]:
    """Which literals a term loses first when widened: negative ones, then request facts before paths."""
    return (value, -KIND_ORDER[atom[0]], atom)


def ordered_terms(terms: Sequence[Mapping[Atom, bool]]) -> tuple[Term, ...]:
    """Terms as the table writes them: shortest first, literals in reading order."""
    return tuple(
        sorted((tuple(sorted(t.items(), key=_literal_order)) for t in terms), key=lambda t: (len(t), term_text(t)))
    )


Described = dict[tuple[str, str], tuple[dict[Outcome, tuple[Term, ...]], request_atoms.Space]]
"""(host's rules as text, zone Polish) → each outcome's terms, and the request space they were found in."""


def _describe(
    host: str, side: Phases, zone_polish: str, described: Described
) -> dict[Outcome, tuple[tuple[Term, ...], Request]]:
    """Outcome → (terms, example request) for every request to ``host``. Hosts whose rules are alike (the same
    settings and criteria in the same order: sites built from one template) share one description in
    ``described``; only their example requests differ, by host."""
    key = (repr(side), zone_polish)
    if key not in described:
        classes = RequestClasses([side])
        outcomes = classes.describe(lambda effects: effect_outcome(effects[0], zone_polish), order=drop_order)
        described[key] = ({k: ordered_terms(terms) for k, terms in outcomes.items()}, classes.space)
    terms_by_outcome, space = described[key]
    return {
        outcome: (terms, request_atoms.example_request(host, dict(terms[0]), space))
        for outcome, terms in terms_by_outcome.items()
    }


def site_rows(
    ss: SiteStage, rules: tuple[RulesByHost, RulesByHost], zone_polish: str, described: Described
) -> list[BehaviourRow]:
    """Rows for one stage of a site, from its zone's compiled cache and configuration rules: its app hosts and
    its media host."""
    by_key: dict[tuple[Outcome, tuple[Term, ...]], list[str]] = {}
    examples: dict[tuple[Outcome, tuple[Term, ...]], Request] = {}
    cache, config = rules
    for host in [*ss.hosts, *media_hosts(ss.media)]:
        side = Phases(cache.on(host), config.on(host))
        for result, (terms, example) in _describe(host, side, zone_polish, described).items():
            by_key.setdefault((result, terms), []).append(host)
            examples.setdefault((result, terms), example)
    rows = [
        BehaviourRow(ss.site, ss.stage, tuple(hosts), terms, result, examples[(result, terms)])
        for (result, terms), hosts in by_key.items()
    ]
    host_order = [*ss.hosts, *media_hosts(ss.media)]
    return sorted(
        rows,
        key=lambda r: (
            not r.singles(),
            [host_order.index(h) for h in r.hosts],
            r.outcome.cache != "bypassed",
            min(len(t) for t in r.covers),
            r.requests,
        ),
    )


def behaviour_rows(project: Project, compiled: Mapping[str, ZoneRules]) -> list[BehaviourRow]:
    """The table of a stack: every stage's sites on the zones it owns, and its own sites on the others."""
    rows = []
    described: Described = {}
    for zone_name, rules in compiled.items():
        polish = project.zone(zone_name).images.polish
        indexed = (RulesByHost(rules.cache), RulesByHost(rules.config))
        for ss in site_stages(project, zone_name):
            if project.owns(zone_name) or ss.stage == project.stage:
                rows += site_rows(ss, indexed, polish, described)
    return rows


@dataclass(frozen=True)
class RuleCount:
    """How many rules of a phase a zone's owner deploys, against its plan's limit."""

    zone: str
    plan: str
    phase: str
    count: int
    limit: int

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def rule_counts(project: Project, compiled: Mapping[str, ZoneRules]) -> list[RuleCount]:
    counts = []
    for zone_name, rules in compiled.items():
        plan = project.zone(zone_name).plan
        for phase, count in (
            ("cache rules", len(rules.cache)),
            ("configuration rules", len(rules.config)),
            ("Cloud Connector rules", len(rules.media_domains)),
        ):
            counts.append(RuleCount(zone_name, plan, phase, count, RULES_PER_PHASE[plan]))
    return counts
