"""Object-key and path globs, with the standard library only (the Django side imports this too): matching, and
inclusion and overlap decided exactly (the config's checks).

'*' is the only wildcard and matches any run of characters, '/' included, case-sensitive: Cloudflare's
``strict wildcard`` semantics, so a glob means the same at upload, in a reconcile and at the edge.

A glob is a regular language, so inclusion and overlap are decided on automata: the states of a glob are the
positions in its text, and a search runs over pairs of state sets, reading only the characters either glob names
plus one that neither does (every other character behaves like that one). Each answer comes with a witness:
a string that one glob matches and the other does not, or one both match.
"""

from __future__ import annotations

from collections import deque


def glob_matches(glob: str, path: str) -> bool:
    """Whether ``path`` matches ``glob``."""
    pieces = glob.split("*")
    if len(pieces) == 1:
        return glob == path
    if not path.startswith(pieces[0]) or not path.endswith(pieces[-1]) or len(path) < len(pieces[0]) + len(pieces[-1]):
        return False
    pos, end = len(pieces[0]), len(path) - len(pieces[-1])
    for piece in pieces[1:-1]:
        found = path.find(piece, pos, end)
        if found < 0:
            return False
        pos = found + len(piece)
    return True


def literal_prefix(glob: str) -> str:
    """The part of ``glob`` before its first wildcard: every key it matches starts with it."""
    return glob.split("*", 1)[0]


STAR = "*"
MAX_STATES = 20_000
"""Pairs of state sets searched before giving up; an undecided question is answered "no" (never a false error)."""

States = frozenset[int]


def _closure(glob: str, states: set[int]) -> States:
    """A star may match nothing: the position after it is reached too."""
    out = set(states)
    for i in sorted(states):
        while i < len(glob) and glob[i] == STAR:
            i += 1
            out.add(i)
    return frozenset(out)


def _step(glob: str, states: States, char: str) -> States:
    moved = set()
    for i in states:
        if i < len(glob) and glob[i] == STAR:
            moved.add(i)
        elif i < len(glob) and glob[i] == char:
            moved.add(i + 1)
    return _closure(glob, moved)


def _other(alphabet: set[str]) -> str:
    return next(c for c in "xqz_~#0\ue000" if c not in alphabet)


def _search(a: str, b: str, goal: str) -> tuple[str | None, bool]:
    """A string reaching a pair of states that satisfies ``goal`` ('a-not-b' or 'both'), or None; and whether
    the search was complete (False: gave up after ``MAX_STATES``)."""
    alphabet = set(a + b) - {STAR}
    letters = [*sorted(alphabet), _other(alphabet)]
    start = (_closure(a, {0}), _closure(b, {0}))
    parent: dict[tuple[States, States], tuple[tuple[States, States], str] | None] = {start: None}
    queue = deque([start])
    while queue:
        pair = queue.popleft()
        in_a, in_b = len(a) in pair[0], len(b) in pair[1]
        if (goal == "a-not-b" and in_a and not in_b) or (goal == "both" and in_a and in_b):
            witness = []
            step = parent[pair]
            while step is not None:
                pair, char = step
                witness.append(char)
                step = parent[pair]
            return "".join(reversed(witness)), True
        for char in letters:
            nxt = (_step(a, pair[0], char), _step(b, pair[1], char))
            if nxt[0] and nxt not in parent:  # once the first glob is stuck, nothing more can be found
                if len(parent) >= MAX_STATES:
                    return None, False
                parent[nxt] = (pair, char)
                queue.append(nxt)
    return None, True


def not_covered_example(narrow: str, wide: str) -> str | None:
    """A string ``narrow`` matches and ``wide`` does not, if one exists (and is found within the budget)."""
    return _search(narrow, wide, "a-not-b")[0]


def _quick_covers(wide: str, narrow: str) -> bool | None:
    """The common cases decided without automata: a literal, a prefix (``/static/*``) or a suffix (``*.jpg``)."""
    if STAR not in narrow:
        return glob_matches(wide, narrow)
    if STAR not in wide:
        return False
    literal = wide.strip(STAR)
    if STAR in literal:
        return None
    if wide == literal + STAR:
        return narrow.split(STAR, 1)[0].startswith(literal)
    if wide == STAR + literal:
        return narrow.rsplit(STAR, 1)[-1].endswith(literal)
    return None


def covers(wide: str, narrow: str) -> bool:
    """Whether every string ``narrow`` matches is matched by ``wide`` (False when undecided)."""
    quick = _quick_covers(wide, narrow)
    if quick is not None:
        return quick
    witness, complete = _search(narrow, wide, "a-not-b")
    return complete and witness is None


def common_example(a: str, b: str) -> str | None:
    """A string both globs match, if one is found."""
    return _search(a, b, "both")[0]


def overlap(a: str, b: str) -> bool:
    """Whether some string matches both globs (True when undecided)."""
    if STAR not in a or STAR not in b:
        return glob_matches(b, a) if STAR not in a else glob_matches(a, b)
    if a.endswith(STAR) and b.endswith(STAR) and STAR not in a[:-1] + b[:-1]:
        return a.startswith(b[:-1]) or b.startswith(a[:-1])
    witness, complete = _search(a, b, "both")
    return witness is not None or not complete


def prefix_glob(prefix: str) -> str:
    """A path prefix as the glob that matches what starts with it."""
    return prefix + STAR
