"""Object-key and path globs, with the standard library only (the Django side imports this too).

'*' is the only wildcard and matches any run of characters, '/' included, case-sensitive: Cloudflare's
``strict wildcard`` semantics, so a glob means the same at upload, in a reconcile and at the edge.
"""

from __future__ import annotations


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
