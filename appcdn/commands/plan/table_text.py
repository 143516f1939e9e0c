"""The plan's cache-behaviour table and rule counts, as text.

Rows are exact (``appcdn.behaviour.table``); to keep them short, the text leaves out of each row the
negation of any literal that alone puts a request to each of its hosts in an earlier row (``Cookie lacks
"sessionid"`` under a row ``Cookie contains "sessionid": bypassed``), so a row reads: what its words say for its
hosts, except the requests of the rows above it. ``--json`` gives every row in full.
"""

from __future__ import annotations

from collections.abc import Sequence

from appcdn.behaviour.request_atoms import Atom
from appcdn.behaviour.table import BehaviourRow, RuleCount, Term, terms_text

LEGEND = (
    "  Each row covers what its words say for its hosts, except the requests of the rows above it "
    "(--json lists every row in full)."
)
HEADER = (
    "site",
    "stage",
    "hosts",
    "requests",
    "cache",
    "edge TTL",
    "browser TTL",
    "polish",
    "cache key",
    "status TTLs",
    "serve stale",
    "other",
)


def shown_terms(rows: Sequence[BehaviourRow]) -> list[tuple[Term, ...]]:
    """Each row's terms as the table shows them, in the table's order."""
    shown = []
    earlier: dict[str, set[tuple[Atom, bool]]] = {}
    for row in rows:
        above = set.intersection(*(earlier.setdefault(host, set()) for host in row.hosts))
        shown.append(tuple(tuple(lit for lit in term if (lit[0], not lit[1]) not in above) for term in row.covers))
        for host in row.hosts:
            earlier[host] |= row.singles()
    return shown


def columns(cells: Sequence[Sequence[str]]) -> list[str]:
    widths = [max(len(row[i]) for row in cells) for i in range(len(cells[0]))]
    return ["  " + "  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in cells]


REQUESTS_WIDTH = 72


def wrapped(text: str, width: int = REQUESTS_WIDTH) -> list[str]:
    """``text`` over lines of about ``width``, broken before an `` or ``."""
    lines = [""]
    for i, part in enumerate(text.split(" or ")):
        piece = part if i == 0 else "or " + part
        if lines[-1] and len(lines[-1]) + len(piece) + 1 > width:
            lines.append(piece)
        else:
            lines[-1] = f"{lines[-1]} {piece}".strip()
    return lines


def table(rows: Sequence[BehaviourRow]) -> list[str]:
    cells: list[tuple[str, ...]] = [HEADER]
    for row, terms in zip(rows, shown_terms(rows)):
        o = row.outcome
        requests = "any other request" if terms != row.covers and terms == ((),) else terms_text(terms)
        first, *more = wrapped(requests)
        cells.append(
            (
                row.site,
                row.stage,
                ", ".join(row.hosts),
                first,
                o.cache,
                o.edge_ttl,
                o.browser_ttl,
                o.polish,
                o.cache_key,
                o.status_ttls,
                o.serve_stale,
                o.other,
            )
        )
        cells += [("", "", "", line, *[""] * (len(HEADER) - 4)) for line in more]
    if all(c[-1] in ("-", "") for c in cells[1:]):
        cells = [c[:-1] for c in cells]
    return [*columns(cells), LEGEND]


def rule_count_lines(counts: Sequence[RuleCount]) -> list[str]:
    """``zone example.com (pro): cache rules 14 of 25, …`` per zone."""
    by_zone: dict[tuple[str, str], list[str]] = {}
    for c in counts:
        by_zone.setdefault((c.zone, c.plan), []).append(f"{c.phase} {c.count} of {c.limit}")
    return [f"  zone {zone} ({plan} plan): " + ", ".join(parts) for (zone, plan), parts in by_zone.items()]
