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

from collections.abc import Callable, Hashable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from appcdn.behaviour.request_atoms import CACHEABLE, Atom, HostRule, Literals, Space

K = TypeVar("K", bound=Hashable)
Truth = bool | None


def truth(clauses: tuple[tuple[int, ...], ...], pos: int, neg: int) -> Truth:
    """Whether a rule matches every (True), no (False) or some (None) request with these literals: Kleene
    logic over its scopes (ORed) of criteria (ANDed, each a bit set of atoms ORed). Loops, not generators:
    this is the innermost step of every tree."""
    result: Truth = False
    for clause in clauses:
        clause_value: Truth = True
        for criterion in clause:
            if criterion & pos:
                continue
            if criterion & neg == criterion:
                clause_value = False
                break
            clause_value = None
        if clause_value:
            return True
        if clause_value is None:
            result = None
    return result


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


@dataclass(frozen=True)
class _Rule:
    """A host rule in a space's bits."""

    settings: tuple[tuple[str, Any], ...]
    keys: frozenset[str]
    bypasses: bool
    clauses: tuple[tuple[int, ...], ...]
    atoms: tuple[int, ...]
    """Its atoms in the order a split takes them: scope by scope, criterion by criterion."""


def _in_bits(rules: Sequence[HostRule], space: Space) -> tuple[_Rule, ...]:
    return tuple(
        _Rule(
            rule.settings,
            rule.keys,
            rule.bypasses,
            tuple(tuple(sum(space.bit[a] for a in crit) for crit in c) for c in rule.clauses),
            tuple(space.bit[a] for c in rule.clauses for crit in c for a in crit),
        )
        for rule in rules
    )


def _split_atom(rules: Sequence[_Rule], pos: int, neg: int, stop_at_bypass: bool) -> int | None:
    """An atom that may still change the outcome of ``rules`` (last rule wins per setting), or None."""
    fixed: set[str] = set()
    for rule in reversed(rules):
        if not rule.keys - fixed:
            continue
        value = truth(rule.clauses, pos, neg)
        if value is False:
            continue
        if value is None:
            known = pos | neg
            return next(bit for bit in rule.atoms if not bit & known)
        fixed |= rule.keys
        if stop_at_bypass and rule.bypasses:
            return None
    return None


def _applied(rules: Sequence[_Rule], pos: int, neg: int) -> dict[str, Any]:
    settings: dict[str, Any] = {}
    for rule in rules:
        if truth(rule.clauses, pos, neg):
            settings.update(rule.settings)
    return settings


Bits = tuple[int, int]
"""Literals as bit sets of a space's atoms: (those that hold, those that do not)."""


class RequestClasses:
    """The classes of requests to one host that ``sides`` tell apart."""

    def __init__(self, sides: Sequence[Phases]):
        self.sides = tuple(sides)
        self.space = Space(set().union({CACHEABLE}, *(side.atoms() for side in self.sides)))
        self._rules = tuple((_in_bits(s.cache, self.space), _in_bits(s.config, self.space)) for s in self.sides)
        self._cacheable = self.space.bit[CACHEABLE]

    def _next_split(self, pos: int, neg: int) -> int | None:
        if not (pos | neg) & self._cacheable:
            return self._cacheable
        if neg & self._cacheable:
            return None
        for cache, config in self._rules:
            bit = _split_atom(cache, pos, neg, stop_at_bypass=True)
            if bit is None and _applied(cache, pos, neg).get("cache") is not False:
                bit = _split_atom(config, pos, neg, stop_at_bypass=False)
            if bit is not None:
                return bit
        return None

    def _leaves(self, pos: int = 0, neg: int = 0) -> Iterator[Bits]:
        """The tree's leaves under these literals: disjoint conjunctions covering their requests."""
        stack: list[tuple[int, int, bool]] = [(pos, neg, False)]  # (node, known to be satisfiable)
        while stack:
            pos, neg, known = stack.pop()
            bit = self._next_split(pos, neg)
            if bit is None:
                yield pos, neg
                continue
            if known:
                possible = self.space.both_ways(pos, neg, bit)
            else:
                possible = (self.space.possible(pos | bit, neg), self.space.possible(pos, neg | bit))
            if possible[0]:
                stack.append((pos | bit, neg, True))
            if possible[1]:
                stack.append((pos, neg | bit, True))

    def _effects(self, pos: int, neg: int) -> tuple[Effect, ...]:
        """The sides' effects on a class whose outcome is decided (a leaf, or anything inside one)."""
        if neg & self._cacheable:
            return tuple(Effect((("cache", False),), None) for _ in self._rules)
        effects = []
        for cache_rules, config_rules in self._rules:
            cache = _applied(cache_rules, pos, neg)
            config = None if cache.get("cache") is False else tuple(sorted(_applied(config_rules, pos, neg).items()))
            effects.append(Effect(tuple(sorted(cache.items())), config))
        return tuple(effects)

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
        uniform: dict[tuple[int, int, K], bool] = {}

        def one_outcome(pos: int, neg: int, outcome: K) -> bool:
            memo = (pos, neg, outcome)
            if memo not in uniform:
                uniform[memo] = not self.space.possible(pos, neg) or all(
                    key(self._effects(*leaf)) in (outcome, absorbs) for leaf in self._leaves(pos, neg)
                )
            return uniform[memo]

        rank = {(bit, value): order(atom, value) for atom, bit in self.space.bit.items() for value in (True, False)}
        groups: dict[K, list[Bits]] = {}
        for pos, neg in self._leaves():
            outcome = key(self._effects(pos, neg))
            if (absorbs is not None and outcome == absorbs) or not wanted(outcome):
                continue
            terms = groups.setdefault(outcome, [])
            if any(not (p & ~pos or n & ~neg) for p, n in terms):
                continue
            literals = [(b, True) for b in _bits(pos)] + [(b, False) for b in _bits(neg)]
            for bit, value in sorted(literals, key=rank.__getitem__):
                flipped = (pos & ~bit, neg | bit) if value else (pos | bit, neg & ~bit)
                if one_outcome(*flipped, outcome):  # the term itself has this outcome
                    pos, neg = pos & ~bit, neg & ~bit
            terms.append((pos, neg))
        return {
            k: [
                self.space.decode(p, n)
                for p, n in terms
                if not any((o, m) != (p, n) and not (o & ~p or m & ~n) for o, m in terms)
            ]
            for k, terms in groups.items()
        }


def _bits(value: int) -> Iterator[int]:
    while value:
        low = value & -value
        yield low
        value ^= low
