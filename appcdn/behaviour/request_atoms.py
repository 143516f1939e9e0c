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
    """Which conjunctions of literals some request satisfies. Literals over the space's atoms are two bit
    sets, ``pos`` (atoms that hold) and ``neg`` (atoms that do not): atom ``i`` is bit ``i``, the path atoms
    first, in the order of their ``path_space`` predicates."""

    def __init__(self, atoms: Iterable[Atom]):
        unique = set(atoms)
        self.path_atoms = tuple(sorted(a for a in unique if a[0] in PATH_KINDS))
        self.atoms = self.path_atoms + tuple(sorted(unique.difference(self.path_atoms)))
        self.bit = {a: 1 << i for i, a in enumerate(self.atoms)}
        self.path_bits = (1 << len(self.path_atoms)) - 1
        self.paths = _path_space(self.path_atoms)
        self.method_bits = sum(self.bit[a] for a in self.atoms if a[0] == "method")
        self._methods = [
            sum(self.bit[a] for a in self.atoms if a[0] == "method" and m in a[1].split("|"))
            for m in (*METHODS, OTHER_METHOD)
        ]
        """Per method, the method atoms it has."""
        self.cookie_bits = sum(self.bit[a] for a in self.atoms if a[0] == "cookie")
        self._present: dict[int, int] = {}
        """Cookie atoms that hold → every cookie atom that then holds (a name inside a present one's name)."""

    def encode(self, literals: Mapping[Atom, bool]) -> tuple[int, int]:
        pos = neg = 0
        for atom, value in literals.items():
            if value:
                pos |= self.bit[atom]
            else:
                neg |= self.bit[atom]
        return pos, neg

    def decode(self, pos: int, neg: int) -> Literals:
        return {a: bool(pos & b) for a, b in self.bit.items() if (pos | neg) & b}

    def _cookies_present(self, pos: int) -> int:
        present = self._present.get(pos)
        if present is None:
            names = frozenset(a[1] for a in self.atoms if pos & self.bit[a])
            header = Request(host="", cookies=names).cookie_header
            present = sum(self.bit[a] for a in self.atoms if a[0] == "cookie" and a[1] in header)
            self._present[pos] = present
        return present

    def possible(self, pos: int, neg: int) -> bool:
        """Whether some request has these literals."""
        methods = (pos | neg) & self.method_bits
        if methods and not any(m & methods == pos & methods for m in self._methods):
            return False
        if neg & self.cookie_bits and self._cookies_present(pos & self.cookie_bits) & neg:
            return False
        return self.paths.satisfiable((pos | neg) & self.path_bits, pos & self.path_bits)

    def both_ways(self, pos: int, neg: int, bit: int) -> tuple[bool, bool]:
        """Whether some request has these literals and atom ``bit``, and whether some has them but not the atom
        (an atom they leave open), for literals that some request has. A header, query argument, expression or
        truncation constrains no other atom, so both; for a path atom, a shortest path for the literals already
        has one of the two, so only the other takes a search."""
        if not bit & self.path_bits:
            if not bit & (self.method_bits | self.cookie_bits):
                return True, True
            return self.possible(pos | bit, neg), self.possible(pos, neg | bit)
        return self.paths.branches((pos | neg) & self.path_bits, pos & self.path_bits, bit)

    def satisfiable(self, literals: Mapping[Atom, bool]) -> bool:
        return self.possible(*self.encode(literals))

    def branches(self, literals: Mapping[Atom, bool], atom: Atom) -> tuple[bool, bool]:
        return self.both_ways(*self.encode(literals), self.bit[atom])

    def example_path(self, literals: Mapping[Atom, bool]) -> str:
        pos, neg = self.encode(literals)
        return self.paths.example((pos | neg) & self.path_bits, pos & self.path_bits) or "/"


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
