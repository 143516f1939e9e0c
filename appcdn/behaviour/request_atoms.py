"""The facts a cache or configuration rule can test on a request, and which combinations of them can occur.

A rule's match is built from *atoms*, facts a request either has or not: a path criterion value
(``prefix /a/``, ``glob /sitemap*.xml``, ``segment admin``, ``extension css``), a method set, a cookie
name in the Cookie header, a header name, a truncated header list, a query argument, a raw expression.
A scope (one site's part of a merged rule) is an AND of criteria, each an OR of atoms; a rule is an OR
of its scopes on a host. ``Space`` says exactly whether some request has a given set of atom values:
path atoms through ``path_space``, methods one at a time, cookie names by containment (a name inside
another's is there whenever that one is); the other atoms are independent.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from appcdn.behaviour import path_space
from appcdn.config.cache import Match
from appcdn.config.fields import METHODS
from appcdn.rules.expressions import Request
from appcdn.rules.rulesets import CompiledRule, Scope
from appcdn_django.globs import glob_matches

Atom = tuple[str, str]
"""(kind, value); a method atom's value is its methods joined with '|'."""
Criterion = tuple[Atom, ...]
"""Atoms ORed."""
Clause = tuple[Criterion, ...]
"""Criteria ANDed: one scope of a rule."""
Literals = dict[Atom, bool]

PATH_KINDS = ("prefix", "glob", "segment", "extension")
CACHEABLE: Atom = ("method", "GET|HEAD")
TRUNCATED: Atom = ("truncated", "")
OTHER_METHOD = "OTHER"
"""Any method no rule names (PROPFIND, PURGE, …)."""


def clause(match: Match) -> Clause:
    """A match's criteria as atoms (its hosts are the caller's business)."""
    criteria: list[Criterion] = []
    for kind, values in (
        ("prefix", match.path_prefixes),
        ("glob", match.paths),
        ("segment", match.path_segments),
        ("extension", match.extensions),
    ):
        if values:
            criteria.append(tuple((kind, v) for v in sorted(set(values))))
    if match.methods:
        criteria.append((("method", "|".join(sorted(set(match.methods)))),))
    if match.cookies:
        criteria.append(tuple(("cookie", c) for c in sorted(set(match.cookies))))
    if match.headers:
        criteria.append((*tuple(("header", h) for h in sorted(set(match.headers))), TRUNCATED))
    if match.query_args:
        criteria.append(tuple(("query", a) for a in sorted(set(match.query_args))))
    if match.expression:
        criteria.append((("expr", match.expression),))
    return tuple(criteria)


@dataclass(frozen=True)
class HostRule:
    """A compiled rule as it applies on one host: its settings and its scopes there (ORed)."""

    settings: tuple[tuple[str, Any], ...]
    clauses: tuple[Clause, ...]
    keys: frozenset[str] = field(init=False)
    """The settings it makes."""
    bypasses: bool = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "keys", frozenset(k for k, _ in self.settings))
        object.__setattr__(self, "bypasses", dict(self.settings).get("cache") is False)


class RulesByHost:
    """A phase's compiled rules indexed by the hosts their scopes apply to (in lower case), so that each host's
    rules are found without reading every scope of the zone."""

    def __init__(self, rules: Sequence[CompiledRule]):
        self._rules = rules
        self._scopes: dict[str, dict[int, list[Scope]]] = {}
        for i, rule in enumerate(rules):
            for scope in rule.scopes:
                for host in scope.effective_hosts:
                    self._scopes.setdefault(host, {}).setdefault(i, []).append(scope)

    def on(self, host: str) -> tuple[HostRule, ...]:
        """The rules that can match requests to ``host`` (compared in lower case), in order."""
        found = self._scopes.get(host.lower(), {})
        return tuple(
            HostRule(self._rules[i].settings, tuple(clause(s.match) for s in scopes))
            for i, scopes in sorted(found.items())
        )


def holds(atom: Atom, request: Request) -> bool:
    """Whether ``request`` has the fact ``atom`` names, as ``expressions.request_matches`` reads it."""
    kind, value = atom
    if kind == "prefix":
        return request.path.startswith(value)
    if kind == "glob":
        return glob_matches(value, request.path)
    if kind == "segment":
        return value in request.path.lower().split("/")
    if kind == "extension":
        return request.extension == value
    if kind == "method":
        return request.method in value.split("|")
    if kind == "cookie":
        return value in request.cookie_header
    if kind == "header":
        return value in {h.lower() for h in request.headers}
    if kind == "truncated":
        return request.headers_truncated
    if kind == "query":
        return value in request.decoded_query_args
    return value in request.true_expressions


def _predicate(atom: Atom) -> path_space.PathPredicate:
    kind, value = atom
    return {
        "prefix": path_space.prefix,
        "glob": path_space.glob,
        "segment": path_space.segment,
        "extension": path_space.extension,
    }[kind](value)


@lru_cache(maxsize=256)
def _path_space(atoms: tuple[Atom, ...]) -> path_space.PathSpace:
    return path_space.PathSpace([_predicate(a) for a in atoms])


class Space:
    """Which conjunctions of literals some request satisfies."""

    def __init__(self, atoms: Iterable[Atom]):
        self.path_atoms = tuple(sorted({a for a in atoms if a[0] in PATH_KINDS}))
        self.bits = {a: 1 << i for i, a in enumerate(self.path_atoms)}
        self.paths = _path_space(self.path_atoms)

    def _path_mask(self, literals: Mapping[Atom, bool]) -> tuple[int, int]:
        mask = value = 0
        for atom, truth in literals.items():
            bit = self.bits.get(atom)
            if bit is not None:
                mask |= bit
                value |= bit if truth else 0
        return mask, value

    def satisfiable(self, literals: Mapping[Atom, bool]) -> bool:
        methods: list[tuple[set[str], bool]] = []
        present: list[str] = []
        absent: list[str] = []
        for (kind, value), holds_ in literals.items():
            if kind == "method":
                methods.append((set(value.split("|")), holds_))
            elif kind == "cookie":
                (present if holds_ else absent).append(value)
        if methods and not any(all((m in names) == t for names, t in methods) for m in (*METHODS, OTHER_METHOD)):
            return False
        if absent:
            header = Request(host="", cookies=frozenset(present)).cookie_header
            if any(name in header for name in absent):
                return False  # a cookie name inside a present one's name (or "1" inside "=1") is there too
        return self.paths.satisfiable(*self._path_mask(literals))

    def branches(self, literals: Mapping[Atom, bool], atom: Atom) -> tuple[bool, bool]:
        """Whether some request has ``literals`` and ``atom``, and whether some has ``literals`` but not ``atom``
        (an atom ``literals`` leave open), for ``literals`` that some request has. A header, query argument,
        expression or truncation constrains no other atom, so both; for a path atom, a shortest path for
        ``literals`` already has one of the two, so only the other takes a search."""
        bit = self.bits.get(atom)
        if bit is None:
            if atom[0] not in ("method", "cookie"):
                return True, True
            return self.satisfiable({**literals, atom: True}), self.satisfiable({**literals, atom: False})
        mask, value = self._path_mask(literals)
        witness = self.paths.example(mask, value)
        if witness is None:
            return False, False
        if self.paths.vector(witness) & bit:
            return True, self.paths.satisfiable(mask | bit, value)
        return self.paths.satisfiable(mask | bit, value | bit), True

    def example_path(self, literals: Mapping[Atom, bool]) -> str:
        return self.paths.example(*self._path_mask(literals)) or "/"


def covers(term: Mapping[Atom, bool], request: Request) -> bool:
    return all(holds(atom, request) == value for atom, value in term.items())


def example_request(host: str, term: Mapping[Atom, bool], space: Space) -> Request:
    """A request to ``host`` that ``term`` covers: the shortest path, the first method, only the cookies,
    headers and query arguments it needs."""
    methods = [(set(a[1].split("|")), t) for a, t in term.items() if a[0] == "method"]
    method = next(m for m in (*METHODS, OTHER_METHOD) if all((m in names) == t for names, t in methods))

    def present(kind: str) -> frozenset[str]:
        return frozenset(a[1] for a, t in term.items() if a[0] == kind and t)

    return Request(
        host,
        space.example_path(term),
        "PROPFIND" if method == OTHER_METHOD else method,
        present("cookie"),
        present("header"),
        term.get(TRUNCATED, False),
        present("query"),
        present("expr"),
    )
