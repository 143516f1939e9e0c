"""Which combinations of path criteria a request path can satisfy at once, decided exactly, one question at a time.

Every path criterion a rule can use is a glob, on the path as sent or on the path in lower case:

- a prefix ``/a/`` is the glob ``/a/*``; a ``paths`` glob is itself (``strict wildcard``, case-sensitive);
- a segment ``admin`` holds when the lower-cased path matches ``*/admin/*`` or ``*/admin``;
- an extension ``css`` holds when the lower-cased path matches ``*.css``.

Each criterion is a small deterministic automaton over one character per class of characters the globs tell
apart. A question (these criteria hold, those do not) is a search for a path over the product of only the
automata it names: best first (A*), each automaton's own distance to the wanted answer bounding the
characters still needed, so the first path found is a shortest one; a combination from which one automaton
can no longer give its answer is cut. The criteria that must not hold join the search only once a path
found without them breaks them (most never do). A question no path answers is answered "no" only once every reachable
combination of its automata was seen: nothing is sampled and nothing given up, whatever the globs overlap.
Every search's answer is kept: questions that differ only in criteria that must not hold mostly share one.

Most questions need no search. A glob's paths start with the text before its first star and end with the text
after its last: two criteria whose start texts (or end texts, in lower case) do not begin (end) one another never
hold together. A prefix holds exactly where the path starts with its text, an extension exactly where the
lower-cased path ends with its text: they are read by comparing texts. Where a question only asks whether some
path answers it (not the shortest), a path joined from the texts and the criteria's own shortest paths is tried
first, and kept if every criterion of the question gives it the wanted value.
"""

from __future__ import annotations

import heapq
import math
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import permutations
from operator import getitem

GlobState = frozenset[int]


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


JOINED_OTHERS = 3
"""Predicates other than starts and ends that a joined path is tried for (in every order)."""

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


def _fixed_end(predicate: PathPredicate) -> tuple[str, str] | None:
    """("start", text) for a predicate that holds exactly on the paths starting with ``text`` (one case-sensitive
    glob ``text*``), ("end", text) for one that holds exactly on those whose lower case ends with ``text`` (one
    lower-case glob ``*text``; never, if ``text`` has upper-case letters), else None."""
    if len(predicate) != 1:
        return None
    (g,) = predicate
    if not g.lower and g.pattern.endswith("*") and "*" not in g.pattern[:-1]:
        return ("start", g.pattern[:-1])
    if g.lower and g.pattern.startswith("*") and "*" not in g.pattern[1:]:
        return ("end", g.pattern[1:])
    return None


def _bounds(predicate: PathPredicate) -> tuple[str, str] | None:
    """For a predicate of one glob: the text its paths start with and the text they end with, in lower case
    (the pattern before its first star and after its last); None for a predicate of several globs."""
    if len(predicate) != 1:
        return None
    (g,) = predicate
    start, end = g.pattern.split("*")[0], g.pattern.split("*")[-1]
    return (start, end) if g.lower else (start.lower(), end.lower())


def _distances(table: list[list[int]], targets: list[bool]) -> list[float]:
    """Per state, the fewest characters that lead to a target state (inf: none does)."""
    back: list[list[int]] = [[] for _ in table]
    for state, row in enumerate(table):
        for nxt in set(row):
            back[nxt].append(state)
    distance = [0.0 if t else math.inf for t in targets]
    queue = deque(s for s, t in enumerate(targets) if t)
    while queue:
        state = queue.popleft()
        for prev in back[state]:
            if distance[prev] == math.inf:
                distance[prev] = distance[state] + 1
                queue.append(prev)
    return distance


@dataclass(frozen=True)
class Automaton:
    """One predicate as a deterministic automaton, with each state's distance to rejecting and to accepting."""

    table: list[list[int]]
    accepts: list[bool]
    first: int
    distance: tuple[list[float], list[float]]
    """``distance[want][state]``: the fewest characters after which the predicate's value is ``want``."""
    columns: list[int]
    """Per character, which of the automaton's distinct columns it follows: characters with one column are
    alike to it."""
    moves: list[list[int]]
    """Per character, per state: the next state."""

    def run(self, path: str, index: dict[str, int]) -> bool:
        state = self.first
        for char in path[1:]:
            state = self.table[state][index[char]]
        return self.accepts[state]


def automaton(predicate: PathPredicate, alphabet: Sequence[str]) -> Automaton:
    table, accepts, first = dfa(predicate, alphabet)
    ids: dict[tuple[int, ...], int] = {}
    columns = [ids.setdefault(tuple(row[c] for row in table), len(ids)) for c in range(len(alphabet))]
    distance = (_distances(table, [not a for a in accepts]), _distances(table, accepts))
    moves = [[row[c] for row in table] for c in range(len(alphabet))]
    return Automaton(table, accepts, first, distance, columns, moves)


class PathSpace:
    """Questions about ``predicates`` (bit ``i`` of a mask or value: predicate ``i``): whether some path starting
    with ``/`` gives the predicates under ``mask`` the truth values in ``value``, and a shortest one that does."""

    def __init__(self, predicates: Sequence[PathPredicate]):
        self.alphabet = _alphabet(predicates)
        self._index = {c: i for i, c in enumerate(self.alphabet)}
        self.automata = [automaton(p, self.alphabet) for p in predicates]
        self._shortest: dict[tuple[int, int], str | None] = {}
        """(mask, value) → the question's answer, and the answer of each search over some of its predicates."""
        self._vectors: dict[str, int] = {}
        ends = [_fixed_end(p) for p in predicates]
        self._fixed = {i: e for i, e in enumerate(ends) if e is not None}
        """Predicate → ("start" or "end", its text), for those that hold exactly where the path has it there."""
        self._bounds = [_bounds(p) for p in predicates]
        self._fixed_texts: dict[int, tuple[bool, list[str], list[str], list[int]]] = {}
        self._joined_paths: dict[int, str | None] = {}

    def vector(self, path: str) -> int:
        """Which predicates ``path`` satisfies."""
        vector = self._vectors.get(path)
        if vector is None:
            lowered = path.lower()
            vector = sum(1 << i for i in range(len(self.automata)) if self._holds_at(i, path, lowered))
            self._vectors[path] = vector
        return vector

    def _holds_at(self, i: int, path: str, lowered: str) -> bool:
        """Whether predicate ``i`` holds for ``path`` (``lowered``: in lower case): a start or an end by comparing
        texts, any other by its automaton."""
        end = self._fixed.get(i)
        if end is None:
            return self.automata[i].run(path, self._index)
        return path.startswith(end[1]) if end[0] == "start" else lowered.endswith(end[1])

    def satisfiable(self, mask: int, value: int) -> bool:
        """Whether some path gives the predicates under ``mask`` the truth values in ``value``."""
        return self._witness(mask, value) is not None

    def _witness(self, mask: int, value: int) -> str | None:
        """Some path for the question: a path joined for the predicates that must hold if it answers the
        question, else a shortest path."""
        holding = mask & value
        if self._texts(holding)[0]:
            return None
        if holding & (holding - 1):  # two or more
            path = self._joined(holding)
            if path is not None and not (self.vector(path) ^ value) & mask:
                return path
        return self.example(mask, value)

    def _texts(self, holding: int) -> tuple[bool, list[str], list[str], list[int]]:
        """For predicates that must all hold: whether two of them need the start or the end of the path (in
        lower case) to differ; the starts and the ends that those of one star fix; the others."""
        known = self._fixed_texts.get(holding)
        if known is None:
            starts: list[str] = []
            ends: list[str] = []
            others: list[int] = []
            for i in indices(holding):
                end = self._fixed.get(i)
                if end is None:
                    others.append(i)
                else:
                    (starts if end[0] == "start" else ends).append(end[1])
            bounds = [b for b in (self._bounds[i] for i in indices(holding)) if b is not None]
            clash = self._clash([b[0] for b in bounds], [b[1] for b in bounds])
            known = self._fixed_texts[holding] = (clash, starts, ends, others)
        return known

    def _joined(self, holding: int) -> str | None:
        """A path for two or more predicates that must all hold, if one is found by joining texts: the longest
        start, then (for up to three predicates of other kinds) their own shortest paths in some order, then
        the longest end."""
        if holding not in self._joined_paths:
            _, starts, ends, others = self._texts(holding)
            path = None
            if len(others) <= JOINED_OTHERS:
                start, end = max(starts, key=len, default=""), max(ends, key=len, default="")
                own = [self.example(1 << i, 1 << i) for i in others]
                candidates = (
                    (start + middle if start else middle or "/") + glue + end
                    for order in permutations(p for p in own if p is not None)
                    for middle in ("".join(order), "/" + "".join(p[1:] for p in order))
                    for glue in ("", "/")
                )
                path = next((c for c in candidates if self._holds(c, holding)), None)
            self._joined_paths[holding] = path
        return self._joined_paths[holding]

    def _holds(self, path: str, holding: int) -> bool:
        """Whether every predicate in ``holding`` holds for ``path`` (False if the alphabet does not spell it)."""
        if not all(c in self._index for c in path[1:]):  # an end in upper case: it never holds
            return False
        lowered = path.lower()
        return all(self._holds_at(i, path, lowered) for i in indices(holding))

    def branches(self, mask: int, value: int, bit: int) -> tuple[bool, bool]:
        """For a question (``mask``, ``value``) that leaves predicate ``bit`` open: whether some path answering it
        has the predicate, and whether some has not. Any path for the question has one of the two, so only the
        other is asked."""
        found = self._witness(mask, value)
        if found is None:
            return False, False
        if self.vector(found) & bit:
            return True, self.satisfiable(mask | bit, value)
        return self.satisfiable(mask | bit, value | bit), True

    def example(self, mask: int, value: int) -> str | None:
        """A shortest path (the first in character order among them) that gives the predicates under ``mask``
        the truth values in ``value``; None if no path does."""
        if (mask, value) not in self._shortest:
            self._shortest[(mask, value)] = self._search(mask, value)
        return self._shortest[(mask, value)]

    def _search(self, mask: int, value: int) -> str | None:
        """The question's predicates taken in as they are needed: first only those that must hold; then, while
        the shortest path found gives some other predicate of the question the wrong value, those too. A path
        for some of the predicates is at most as long as one for all, so a path that turns out right for all is
        a shortest (and the first in order) for the question; no path for some of them is no path at all."""
        if self._texts(mask & value)[0]:
            return None
        active = mask & value
        while True:
            if not self._pairs_possible(active, value):
                return None
            if (active, value & active) not in self._shortest:
                self._shortest[(active, value & active)] = self._shortest_over(active, value & active)
            path = self._shortest[(active, value & active)]
            if path is None:
                return None
            wrong = (self.vector(path) ^ value) & mask
            if not wrong:
                return path
            active |= wrong

    @staticmethod
    def _clash(starts: Sequence[str], ends: Sequence[str]) -> bool:
        """Whether two predicates that fix the start of the path (``/a/*``) or the end of it in lower case
        (``*.css``) fix it differently: ``/a/*`` and ``/b/*`` never hold together, ``/a/*`` and ``/a/b/*`` do (one
        text starts the other); ``*.css`` and ``*.scss`` never, ``*.css`` and ``*.min.css`` do."""
        return any(
            not (a.startswith(b) or b.startswith(a)) for n, a in enumerate(starts) for b in starts[n + 1 :]
        ) or any(not (a.endswith(b) or b.endswith(a)) for n, a in enumerate(ends) for b in ends[n + 1 :])

    def _pairs_possible(self, mask: int, value: int) -> bool:
        """Whether every two of the predicates under ``mask`` can have their values at once. If two cannot (a glob
        ending in ``/feed`` and an extension, two extensions), no path gives them all: two small automata say so
        at once, where the search over all of them would see every combination first."""
        picked = [1 << i for i in indices(mask)]
        if len(picked) <= 2:
            return True
        return all(self.satisfiable(a | b, value & (a | b)) for n, a in enumerate(picked) for b in picked[n + 1 :])

    def _shortest_over(self, mask: int, value: int) -> str | None:
        """A* over the product of the automata under ``mask``; the heuristic (the largest of their own distances
        to the wanted value) is consistent, so the first goal taken off the heap is a shortest path, and ties
        are taken in character order. Of characters that all these automata treat alike, only the first is tried."""
        picked = list(indices(mask))
        if not picked:
            return "/"
        automata = [self.automata[i] for i in picked]
        distances = [a.distance[value >> i & 1] for a, i in zip(automata, picked)]
        alike: dict[tuple[int, ...], list[int]] = {}  # characters that every picked automaton treats alike
        for c in range(len(self.alphabet)):
            alike.setdefault(tuple(a.columns[c] for a in automata), []).append(c)
        steps = [
            (char, [a.moves[c] for a in automata])
            for char, c in sorted(min((self.alphabet[c], c) for c in chars) for chars in alike.values())
        ]
        start = tuple(a.first for a in automata)
        estimate = max(map(getitem, distances, start))
        if estimate == math.inf:
            return None
        best = {start: "/"}
        heap: list[tuple[float, int, str, tuple[int, ...]]] = [(1 + estimate, 1, "/", start)]
        while heap:
            estimate, length, path, state = heapq.heappop(heap)
            if best[state] != path:
                continue  # reached since by a shorter path, or one of the same length earlier in order
            if estimate == length:  # the heuristic is 0: a goal
                return path
            for char, moves in steps:
                nxt = tuple(map(getitem, moves, state))
                ahead = max(map(getitem, distances, nxt))
                if ahead == math.inf:
                    continue
                known = best.get(nxt)
                step = path + char
                if known is None or (len(step), step) < (len(known), known):
                    best[nxt] = step
                    heapq.heappush(heap, (length + 1 + ahead, length + 1, step, nxt))
        return None


def indices(mask: int) -> Iterator[int]:
    """The bits set in ``mask``, lowest first."""
    while mask:
        low = mask & -mask
        yield low.bit_length() - 1
        mask ^= low
