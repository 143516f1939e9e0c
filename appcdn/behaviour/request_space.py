"""The requests to one host, split exactly into the classes one or more sides' rules tell apart.

``RequestClasses`` builds a decision tree over the atoms of the rules (``appcdn.behaviour.request_atoms``):
at each node it finds, per side, the last rule (in Cloudflare's order, the last one wins per setting)
that could still change a setting not yet fixed by a later rule that surely matches, and splits on one
of its undecided atoms; branches no request can reach are cut. Each leaf is a conjunction of atom
literals whose outcome no further atom can change. Cloudflare only caches GET and HEAD, so the tree
first splits on that; HEAD is a method of its own, which a rule limited to GET does not match. Polish
works on images in Cloudflare's cache, so it is only decided where a side caches (or leaves the request
to Cloudflare's defaults).

``describe`` merges the leaves of each outcome: each leaf is widened by every literal it can drop while
the wider class keeps one outcome (checked by running the tree under it), and leaves a wider term already
covers are skipped. The terms of an outcome cover exactly its requests, in few words.

With one side the outcome is the plan's; with two (a base and a head) it is a change, for the diff.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from appcdn.behaviour.request_atoms import CACHEABLE, Atom, HostRule, Literals, Space

K = TypeVar("K", bound=Hashable)
Truth = bool | None


def truth(rule: HostRule, literals: Mapping[Atom, bool]) -> Truth:
    """Whether the rule matches every (True), no (False) or some (None) request with these literals:
    Kleene logic over its scopes (ORed) of criteria (ANDed) of atoms (ORed). Loops, not generators: this
    is the innermost step of every tree."""
    result: Truth = False
    for clause in rule.clauses:
        clause_value: Truth = True
        for criterion in clause:
            value: Truth = False
            for atom in criterion:
                known = literals.get(atom)
                if known:
                    value = True
                    break
                if known is None:
                    value = None
            if value is False:
                clause_value = False
                break
            if value is None:
                clause_value = None
        if clause_value:
            return True
        if clause_value is None:
            result = None
    return result


def _undecided_atom(rule: HostRule, literals: Mapping[Atom, bool]) -> Atom:
    return next(a for c in rule.clauses for criterion in c for a in criterion if a not in literals)


@dataclass(frozen=True)
class Phases:
    """One side's rules on a host: its cache rules and its configuration (Polish) rules, in order."""

    cache: tuple[HostRule, ...]
    config: tuple[HostRule, ...]

    def atoms(self) -> set[Atom]:
        return {a for rule in self.cache + self.config for c in rule.clauses for crit in c for a in crit}


@dataclass(frozen=True)
class Effect:
    """What one side does with the requests of a class: its cache settings (``{"cache": False}`` for a
    method Cloudflare does not cache) and, unless they bypass the cache, its configuration settings."""

    cache: tuple[tuple[str, Any], ...]
    config: tuple[tuple[str, Any], ...] | None


def _split_atom(rules: Sequence[HostRule], literals: Mapping[Atom, bool], stop_at_bypass: bool) -> Atom | None:
    """An atom that may still change the outcome of ``rules`` (last rule wins per setting), or None."""
    fixed: set[str] = set()
    for rule in reversed(rules):
        if not rule.keys - fixed:
            continue
        value = truth(rule, literals)
        if value is False:
            continue
        if value is None:
            return _undecided_atom(rule, literals)
        fixed |= rule.keys
        if stop_at_bypass and rule.bypasses:
            return None
    return None


def _applied(rules: Sequence[HostRule], literals: Mapping[Atom, bool]) -> dict[str, Any]:
    settings: dict[str, Any] = {}
    for rule in rules:
        if truth(rule, literals):
            settings.update(rule.settings)
    return settings


def effect(side: Phases, literals: Mapping[Atom, bool]) -> Effect:
    """The side's effect on a class whose outcome is decided (a leaf, or anything inside one)."""
    if not literals.get(CACHEABLE, True):
        return Effect((("cache", False),), None)
    cache = _applied(side.cache, literals)
    config = None if cache.get("cache") is False else tuple(sorted(_applied(side.config, literals).items()))
    return Effect(tuple(sorted(cache.items())), config)


class RequestClasses:
    """The classes of requests to one host that ``sides`` tell apart."""

    def __init__(self, sides: Sequence[Phases]):
        self.sides = tuple(sides)
        self.space = Space(set().union(*(side.atoms() for side in self.sides)))

    def _next_split(self, literals: Mapping[Atom, bool]) -> Atom | None:
        if CACHEABLE not in literals:
            return CACHEABLE
        if not literals[CACHEABLE]:
            return None
        for side in self.sides:
            atom = _split_atom(side.cache, literals, stop_at_bypass=True)
            if atom is None and _applied(side.cache, literals).get("cache") is not False:
                atom = _split_atom(side.config, literals, stop_at_bypass=False)
            if atom is not None:
                return atom
        return None

    def leaves(self, within: Literals | None = None) -> Iterator[Literals]:
        """The tree's leaves under ``within``: disjoint conjunctions covering its requests."""
        stack: list[tuple[Literals, bool]] = [(dict(within or {}), False)]  # (node, known to be satisfiable)
        while stack:
            literals, known = stack.pop()
            atom = self._next_split(literals)
            if atom is None:
                yield literals
                continue
            if known:
                possible = self.space.branches(literals, atom)
            else:
                possible = (
                    self.space.satisfiable({**literals, atom: True}),
                    self.space.satisfiable({**literals, atom: False}),
                )
            for value, satisfiable in zip((True, False), possible):
                if satisfiable:
                    stack.append(({**literals, atom: value}, True))

    def effects(self, literals: Mapping[Atom, bool]) -> tuple[Effect, ...]:
        return tuple(effect(side, literals) for side in self.sides)

    def describe(
        self,
        key: Callable[[tuple[Effect, ...]], K],
        order: Callable[[Atom, bool], Any] = lambda atom, value: (value, atom),
        absorbs: K | None = None,
        wanted: Callable[[K], bool] = lambda outcome: True,
    ) -> dict[K, list[Literals]]:
        """Per outcome (``key`` of the sides' effects) that is ``wanted``, terms whose union is exactly its
        requests. Literals are dropped in ``order`` (by default negative ones first). With ``absorbs``, the
        terms may also cover that outcome's requests: each term is then exact among the requests whose
        outcome is not ``absorbs`` (for a diff: "leaving out the requests bypassed before and after")."""
        uniform: dict[tuple[frozenset[tuple[Atom, bool]], K], bool] = {}

        def one_outcome(literals: Literals, outcome: K) -> bool:
            memo = (frozenset(literals.items()), outcome)
            if memo not in uniform:
                uniform[memo] = not self.space.satisfiable(literals) or all(
                    key(self.effects(leaf)) in (outcome, absorbs) for leaf in self.leaves(literals)
                )
            return uniform[memo]

        groups: dict[K, list[Literals]] = {}
        for leaf in self.leaves():
            outcome = key(self.effects(leaf))
            if (absorbs is not None and outcome == absorbs) or not wanted(outcome):
                continue
            terms = groups.setdefault(outcome, [])
            if any(t.items() <= leaf.items() for t in terms):
                continue
            term = dict(leaf)
            for atom in sorted(leaf, key=lambda a: order(a, leaf[a])):
                if one_outcome({**term, atom: not term[atom]}, outcome):  # the term itself has this outcome
                    del term[atom]
            terms.append(term)
        return {
            k: [t for t in terms if not any(o != t and o.items() <= t.items() for o in terms)]
            for k, terms in groups.items()
        }
