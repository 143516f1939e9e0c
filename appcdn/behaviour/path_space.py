"""Which combinations of path criteria a request path can satisfy at once, found exactly.

Every path criterion a rule can use is a glob, on the path as sent or on the path in lower case:

- a prefix ``/a/`` is the glob ``/a/*``; a ``paths`` glob is itself (``strict wildcard``, case-sensitive);
- a segment ``admin`` holds when the lower-cased path matches ``*/admin/*`` or ``*/admin``;
- an extension ``css`` holds when the lower-cased path matches ``*.css``.

Each glob is a small automaton; their product, explored breadth first from ``/`` over every character
the globs tell apart, reaches exactly the combinations some path satisfies, each with a shortest path
that does. No combination is guessed and none is missed, whatever the globs overlap.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field

GlobState = frozenset[int]
MAX_STATES = 200_000  # far above what any stack reaches; a guard against a pathological product


@dataclass(frozen=True)
class Glob:
    """``*`` matches any run of characters; every other character itself."""

    pattern: str
    lower: bool = False
    """Matched against the path in lower case."""

    def _closure(self, positions: set[int]) -> GlobState:
        todo, seen = list(positions), set(positions)
        while todo:
            pos = todo.pop()
            if pos < len(self.pattern) and self.pattern[pos] == "*" and pos + 1 not in seen:
                seen.add(pos + 1)
                todo.append(pos + 1)
        return frozenset(seen)

    def start(self) -> GlobState:
        return self._closure({0})

    def step(self, state: GlobState, char: str) -> GlobState:
        if self.lower:
            char = char.lower()
        nxt = set()
        for pos in state:
            if pos < len(self.pattern):
                if self.pattern[pos] == "*":
                    nxt.add(pos)
                elif self.pattern[pos] == char:
                    nxt.add(pos + 1)
        return self._closure(nxt)

    def accepts(self, state: GlobState) -> bool:
        return len(self.pattern) in state

    def literal_chars(self) -> set[str]:
        return set(self.pattern) - {"*"}

    @property
    def sticky(self) -> bool:
        """Once matched, every longer path matches too."""
        return self.pattern.endswith("*")


PathPredicate = tuple[Glob, ...]
"""Globs ORed: the predicate holds when any of them matches."""


def prefix(value: str) -> PathPredicate:
    return (Glob(value + "*"),)


def glob(value: str) -> PathPredicate:
    return (Glob(value),)


def segment(value: str) -> PathPredicate:
    return (Glob(f"*/{value}/*", lower=True), Glob(f"*/{value}", lower=True))


def extension(value: str) -> PathPredicate:
    return (Glob(f"*.{value}", lower=True),)


Dfa = tuple[list[list[int]], list[bool], int]
"""Transitions (state → character index → state), acceptance per state, and the state after ``/``."""


def dfa(predicate: PathPredicate, alphabet: Sequence[str]) -> Dfa:
    """The predicate's globs run side by side, as one deterministic automaton. Once a glob ending in ``*``
    has matched, the predicate holds for every longer path: those states are one."""
    ids: dict[tuple[GlobState, ...], int] = {}
    states: list[tuple[GlobState, ...]] = []
    forever: tuple[GlobState, ...] = ()

    def number(state: tuple[GlobState, ...]) -> int:
        if any(g.sticky and g.accepts(s) for g, s in zip(predicate, state)):
            state = forever
        if state not in ids:
            ids[state] = len(states)
            states.append(state)
        return ids[state]

    first = number(tuple(g.step(g.start(), "/") for g in predicate))
    table: list[list[int]] = []
    while len(table) < len(states):
        state = states[len(table)]
        table.append(
            [
                number(state if state == forever else tuple(g.step(s, c) for g, s in zip(predicate, state)))
                for c in alphabet
            ]
        )
    return table, [s == forever or any(g.accepts(gs) for g, gs in zip(predicate, s)) for s in states], first


FRESH_CANDIDATES = "xzqjkvw0123456789-_~"


def _alphabet(predicates: Sequence[PathPredicate]) -> list[str]:
    """One character per class of characters that every glob treats alike (upper-case letters differ from
    lower-case ones only for case-sensitive globs), and one that no glob names."""
    exact = {c for p in predicates for g in p if not g.lower for c in g.literal_chars()}
    folded = {c for p in predicates for g in p if g.lower for c in g.literal_chars()}
    fresh = next((c for c in FRESH_CANDIDATES if c not in exact and c.lower() not in folded), None)
    candidates = exact | folded | {c.upper() for c in folded} | ({fresh} if fresh else set())
    by_signature: dict[tuple[str | None, str | None], str] = {}
    for char in sorted(candidates, key=lambda c: (c.isupper(), c)):
        signature = (char if char in exact else None, char.lower() if char.lower() in folded else None)
        by_signature.setdefault(signature, char)
    return sorted(by_signature.values(), key=lambda c: (c.isupper(), c))


@dataclass(frozen=True)
class PathSpace:
    """The satisfiable truth vectors of ``predicates`` (bit ``i`` set: predicate ``i`` holds), each with a
    shortest path that gives it."""

    witnesses: dict[int, str]
    _answers: dict[tuple[int, int], bool] = field(default_factory=dict, compare=False, repr=False)

    def satisfiable(self, mask: int, value: int) -> bool:
        """Whether some path gives the predicates under ``mask`` the truth values in ``value``."""
        found = self._answers.get((mask, value))
        if found is None:
            found = self._answers[(mask, value)] = any(vector & mask == value for vector in self.witnesses)
        return found

    def example(self, mask: int, value: int) -> str | None:
        found = [path for vector, path in self.witnesses.items() if vector & mask == value]
        return min(found, key=lambda p: (len(p), p)) if found else None


def explore(predicates: Sequence[PathPredicate]) -> PathSpace:
    """Every truth vector some path starting with ``/`` gives ``predicates``."""
    alphabet = _alphabet(predicates)
    dfas = [dfa(p, alphabet) for p in predicates]
    tables = [table for table, _, _ in dfas]
    accepting = [(accepts, 1 << i) for i, (_, accepts, _) in enumerate(dfas)]
    first = tuple(start for _, _, start in dfas)
    seen = {first: "/"}
    witnesses: dict[int, str] = {}
    queue = deque([first])
    indices = range(len(alphabet))
    while queue:
        state = queue.popleft()
        path = seen[state]
        bits = 0
        for (accepts, bit), s in zip(accepting, state):
            if accepts[s]:
                bits |= bit
        witnesses.setdefault(bits, path)
        for c in indices:
            nxt = tuple(table[s][c] for table, s in zip(tables, state))
            if nxt not in seen:
                if len(seen) >= MAX_STATES:
                    raise RuntimeError(f"too many path classes to enumerate ({MAX_STATES} states)")
                seen[nxt] = path + alphabet[c]
                queue.append(nxt)
    return PathSpace(witnesses)
