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
the wider class keeps one outcome (checked by running the tree under it, unless the class meets one of the
tree's leaves of another outcome where the flipped atom holds: then it has two), and leaves a wider term
already covers are skipped. The terms of an outcome cover exactly its requests, in few words.

Literals are two bit sets over the space's atoms (those that hold, those that do not) and each rule's scopes
bit sets of criteria, so a rule is read with a few integer operations; the rules a negative literal alone
makes false are known per node and never read.

With one side the outcome is the plan's; with two (a base and a head) it is a change, for the diff.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import islice
from typing import Any, TypeVar

from appcdn.behaviour.path_space import indices
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


@dataclass(frozen=True)
class _Phase:
    """A side's rules of one phase in a space's bits."""

    rules: tuple[_Rule, ...]
    falsifies: dict[int, int]
    """Atom → the rules (bit ``j``: rule ``j``) that do not match where it does not hold: those of one scope
    with a criterion of that atom alone."""
    falsified_with: dict[int, list[tuple[int, int]]]
    """Atom → (criterion, rule) for the criteria of several atoms, that one among them, of rules of one scope:
    the rule does not match where none of the criterion's atoms holds."""
    may_match: dict[int, int]
    """Atom → the rules that can only match where some atom of theirs holds (the first criterion of one of their
    scopes) and have it."""
    always: int
    """The rules with a scope of no criteria."""
    by_byte: dict[int, list[int]] = field(default_factory=dict)
    """``falsifies`` eight atoms at a time, made when first read: per byte of a bit set of atoms, per value."""

    def dead(self, neg: int) -> int:
        """The rules that ``neg`` alone makes false (not always all of them), read eight atoms at a time."""
        dead = 0
        for k, byte in enumerate(neg.to_bytes((neg.bit_length() + 7) // 8, "little")):
            if byte:
                table = self.by_byte.get(k)
                if table is None:
                    table = self.by_byte[k] = [0] * 256
                    for value in range(1, 256):
                        low = value & -value
                        table[value] = table[value ^ low] | self.falsifies.get(low << 8 * k, 0)
                dead |= table[byte]
        for criteria in self.falsified_with.values():
            for criterion, j in criteria:
                if criterion & neg == criterion:
                    dead |= 1 << j
        return dead

    def killed(self, dead: int, neg: int, bit: int) -> int:
        """The rules known false once atom ``bit`` is added to ``neg``, from those known false before."""
        dead |= self.falsifies.get(bit, 0)
        for criterion, j in self.falsified_with.get(bit, ()):
            if criterion & (neg | bit) == criterion:
                dead |= 1 << j
        return dead

    def split_atom(self, pos: int, neg: int, dead: int, stop_at_bypass: bool) -> int | None:
        """An atom that may still change the outcome of the rules (last rule wins per setting), or None.
        Rules in ``dead`` are false; the others are read from the last one."""
        fixed: frozenset[str] = frozenset()
        alive = (1 << len(self.rules)) - 1 & ~dead
        while alive:
            j = alive.bit_length() - 1
            alive ^= 1 << j
            rule = self.rules[j]
            if rule.keys <= fixed:
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

    def applied(self, pos: int, neg: int, dead: int) -> dict[str, Any]:
        """The settings of the rules that surely match, in order (the last one wins per setting)."""
        settings: dict[str, Any] = {}
        candidates = self.always
        for i in indices(pos):
            candidates |= self.may_match.get(1 << i, 0)
        for j in indices(candidates & ~dead):
            rule = self.rules[j]
            if truth(rule.clauses, pos, neg):
                settings.update(rule.settings)
        return settings


def _in_bits(rules: Sequence[HostRule], space: Space) -> _Phase:
    compiled = tuple(
        _Rule(
            rule.settings,
            rule.keys,
            rule.bypasses,
            tuple(tuple(sum(space.bit[a] for a in crit) for crit in c) for c in rule.clauses),
            tuple(space.bit[a] for c in rule.clauses for crit in c for a in crit),
        )
        for rule in rules
    )
    falsifies: dict[int, int] = {}
    falsified_with: dict[int, list[tuple[int, int]]] = {}
    may_match: dict[int, int] = {}
    always = 0
    for j, rule in enumerate(compiled):
        if len(rule.clauses) == 1:
            for criterion in rule.clauses[0]:
                if criterion & (criterion - 1) == 0:  # one atom
                    falsifies[criterion] = falsifies.get(criterion, 0) | 1 << j
                else:
                    for i in indices(criterion):
                        falsified_with.setdefault(1 << i, []).append((criterion, j))
        for clause in rule.clauses:
            if not clause:
                always |= 1 << j
            for i in indices(clause[0] if clause else 0):
                may_match[1 << i] = may_match.get(1 << i, 0) | 1 << j
    return _Phase(compiled, falsifies, falsified_with, may_match, always)


LEAVES_TRIED = 8
"""Leaves of another outcome where a flipped atom holds that a widening step tries before it runs the tree."""
LEAVES_READ = 64
"""Of each other outcome, the leaves where the atom holds that a widening step reads to find those it tries."""
Bits = tuple[int, int]
"""Literals as bit sets of a space's atoms: (those that hold, those that do not)."""
Dead = tuple[int, ...]
"""Per side, per phase (cache, configuration): rules known not to match."""


class RequestClasses:
    """The classes of requests to one host that ``sides`` tell apart."""

    def __init__(self, sides: Sequence[Phases]):
        self.sides = tuple(sides)
        self.space = Space(set().union({CACHEABLE}, *(side.atoms() for side in self.sides)))
        self._phases = tuple(
            phase for s in self.sides for phase in (_in_bits(s.cache, self.space), _in_bits(s.config, self.space))
        )
        self._cacheable = self.space.bit[CACHEABLE]

    def _dead(self, neg: int) -> Dead:
        return tuple(phase.dead(neg) for phase in self._phases)

    def _next_split(self, pos: int, neg: int, dead: Dead) -> int | None:
        if not (pos | neg) & self._cacheable:
            return self._cacheable
        if neg & self._cacheable:
            return None
        for i in range(0, len(self._phases), 2):
            cache, config = self._phases[i], self._phases[i + 1]
            bit = cache.split_atom(pos, neg, dead[i], stop_at_bypass=True)
            if bit is None and config.rules and cache.applied(pos, neg, dead[i]).get("cache") is not False:
                bit = config.split_atom(pos, neg, dead[i + 1], stop_at_bypass=False)
            if bit is not None:
                return bit
        return None

    def _leaves(self, pos: int = 0, neg: int = 0) -> Iterator[tuple[int, int, Dead]]:
        """The tree's leaves under these literals: disjoint conjunctions covering their requests (with the
        rules known not to match them)."""
        stack: list[tuple[int, int, Dead, bool]] = [(pos, neg, self._dead(neg), False)]  # known satisfiable
        while stack:
            pos, neg, dead, known = stack.pop()
            bit = self._next_split(pos, neg, dead)
            if bit is None:
                yield pos, neg, dead
                continue
            if known:
                possible = self.space.both_ways(pos, neg, bit)
            else:
                possible = (self.space.possible(pos | bit, neg), self.space.possible(pos, neg | bit))
            if possible[0]:
                stack.append((pos | bit, neg, dead, True))
            if possible[1]:
                killed = tuple(phase.killed(d, neg, bit) for d, phase in zip(dead, self._phases))
                stack.append((pos, neg | bit, killed, True))

    def _effects(self, pos: int, neg: int, dead: Dead) -> tuple[Effect, ...]:
        """The sides' effects on a class whose outcome is decided (a leaf, or anything inside one)."""
        sides = range(0, len(self._phases), 2)
        if neg & self._cacheable:
            return tuple(Effect((("cache", False),), None) for _ in sides)
        effects = []
        for i in sides:
            cache = self._phases[i].applied(pos, neg, dead[i])
            config = (
                None
                if cache.get("cache") is False
                else tuple(sorted(self._phases[i + 1].applied(pos, neg, dead[i + 1]).items()))
            )
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
        leaves = [(pos, neg, key(self._effects(pos, neg, dead))) for pos, neg, dead in self._leaves()]
        holding: dict[int, dict[K, list[Bits]]] = {}
        """Atom → outcome → the leaves of that outcome where the atom holds."""
        for pos, neg, outcome in leaves:
            for i in indices(pos):
                holding.setdefault(1 << i, {}).setdefault(outcome, []).append((pos, neg))
        uniform: dict[tuple[int, int, K], bool] = {}

        def other_outcome_met(pos: int, neg: int, outcome: K, bit: int) -> bool:
            """Whether the class meets a leaf of another outcome among the first few where atom ``bit`` holds:
            if so, the class is not of one outcome (if not, nothing is known). Bounded whatever the tree's size:
            of each other outcome, its first LEAVES_READ leaves; at most LEAVES_TRIED of them asked."""
            tried = 0
            for other, found in holding.get(bit, {}).items():
                if other in (outcome, absorbs):
                    continue
                for p, n in islice(found, LEAVES_READ):
                    if pos & n or neg & p:
                        continue
                    if self.space.possible(pos | p, neg | n):
                        return True
                    tried += 1
                    if tried == LEAVES_TRIED:
                        return False
            return False

        def one_outcome(pos: int, neg: int, outcome: K, bit: int) -> bool:
            """Whether every request of the class has ``outcome`` (or ``absorbs``); atom ``bit`` holds in it."""
            memo = (pos, neg, outcome)
            if memo not in uniform:
                uniform[memo] = not self.space.possible(pos, neg) or (
                    not (pos & bit and other_outcome_met(pos, neg, outcome, bit))
                    and all(key(self._effects(*leaf)) in (outcome, absorbs) for leaf in self._leaves(pos, neg))
                )
            return uniform[memo]

        rank = {(bit, value): order(atom, value) for atom, bit in self.space.bit.items() for value in (True, False)}
        groups: dict[K, list[Bits]] = {}
        for pos, neg, outcome in leaves:
            if (absorbs is not None and outcome == absorbs) or not wanted(outcome):
                continue
            terms = groups.setdefault(outcome, [])
            if any(not (p & ~pos or n & ~neg) for p, n in terms):
                continue
            literals = [(1 << i, True) for i in indices(pos)] + [(1 << i, False) for i in indices(neg)]
            for bit, value in sorted(literals, key=rank.__getitem__):
                flipped = (pos & ~bit, neg | bit) if value else (pos | bit, neg & ~bit)
                if one_outcome(*flipped, outcome, bit):  # the term itself has this outcome
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
