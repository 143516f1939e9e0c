"""Which requests a rule applies to (``Match``), with its checks: a match that can never hold, values that add
nothing to their criterion, and whether one match covers every request of another.

Criteria are ANDed and the values inside one criterion ORed (the Cloudflare expression ``policy.expressions``
compiles). Path prefixes and path globs are compared as globs (``globs``), exactly; path segments (compared in
lower case) and the set criteria by their values.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import octorules_wirefilter
from pydantic import Field

from appcdn.config.fields import (
    CookieName,
    Expression,
    Extension,
    HeaderName,
    Host,
    Method,
    PathGlob,
    PathPrefix,
    PathSegment,
    QueryArg,
    Strict,
)
from appcdn.config.plans import PlanTier, needs
from appcdn.config.problems import Problem
from appcdn_django.globs import STAR, covers, overlap, prefix_glob

SET_CRITERIA = ("extensions", "methods", "cookies", "headers", "query_args")
"""Criteria that hold when the request has any of their values (a cookie criterion also holds for a cookie whose
name contains one, a header criterion also when Cloudflare truncated the header list: a narrower set of values
still matches no request the wider set does not)."""


class Match(Strict):
    """Which requests a rule applies to. Criteria are ANDed; the values inside one criterion are ORed."""

    hosts: list[Host] = Field(default=[], description="default: all of the site's hosts on the stage")
    path_prefixes: list[PathPrefix] = Field(default=[], description="e.g. /static/")
    paths: list[PathGlob] = Field(
        default=[], description="globs; '*' matches any characters, '/' included; case-sensitive"
    )
    path_segments: list[PathSegment] = Field(
        default=[],
        description="any segment of the path equals one, in any case: admin matches /admin, /en/Admin/x, //admin/",
    )
    extensions: list[Extension] = Field(default=[], description="file extensions, e.g. css")
    methods: list[Method] = Field(default=[], description="HTTP methods")
    cookies: list[CookieName] = Field(default=[], description="cookie names; matches when any is present")
    headers: list[HeaderName] = Field(
        default=[],
        description="header names; matches when any is present, or may "
        "be (Cloudflare truncated the request's header list)",
    )
    query_args: list[QueryArg] = Field(
        default=[], description="query argument names; matches when any is present (?edit, ?edit=1)"
    )
    expression: Expression | None = Field(
        default=None, description="raw Cloudflare expression, ANDed; parsed by Cloudflare's wirefilter"
    )

    def path_globs(self) -> tuple[list[str], list[str]]:
        """The path criteria as globs: (prefixes, paths)."""
        return [prefix_glob(p) for p in self.path_prefixes], list(self.paths)


def _union_covers(wide: list[str], narrow: Match) -> bool:
    """Whether every path ``narrow`` matches is in the union of the globs ``wide`` (no globs: every path).
    Sufficient, not necessary: each glob of one of narrow's path criteria is covered by one of ``wide``."""
    if not wide:
        return True
    return any(
        criterion and all(any(covers(w, g) for w in wide) for g in criterion) for criterion in narrow.path_globs()
    )


def _has_segment(glob: str, segments: set[str]) -> bool:
    """Whether every path ``glob`` matches has one of ``segments`` (lower case) as a segment: a literal run of the
    glob holds ``/<segment>/``, or its literal end is ``/<segment>``."""
    pieces = glob.lower().split(STAR)
    return any(f"/{s}/" in piece for piece in pieces for s in segments) or any(
        pieces[-1].endswith(f"/{s}") for s in segments
    )


def _segments_covered(segments: list[str], narrow: Match) -> bool:
    """Whether every request ``narrow`` matches has a path segment among ``segments`` (no segments: every path).
    Sufficient, not necessary: narrow's own segments are among them, or every glob of one of its path criteria
    holds one."""
    wanted = set(segments)
    if not wanted:
        return True
    if narrow.path_segments and set(narrow.path_segments) <= wanted:
        return True
    return any(criterion and all(_has_segment(g, wanted) for g in criterion) for criterion in narrow.path_globs())


def match_covers(wide: Match, wide_hosts: Sequence[str], narrow: Match, narrow_hosts: Sequence[str]) -> bool:
    """Whether ``wide`` (on ``wide_hosts`` by default) matches every request ``narrow`` matches. Conservative: True
    only when certain (a raw expression covers only the same expression)."""
    if not set(narrow.hosts or narrow_hosts) <= set(wide.hosts or wide_hosts):
        return False
    if not all(_union_covers(criterion, narrow) for criterion in wide.path_globs()):
        return False
    if not _segments_covered(wide.path_segments, narrow):
        return False
    for key in SET_CRITERIA:
        wide_values, narrow_values = set(getattr(wide, key)), set(getattr(narrow, key))
        if wide_values and not (narrow_values and narrow_values <= wide_values):
            return False
    return wide.expression is None or wide.expression == narrow.expression


def never_matches(match: Match) -> str | None:
    """Why no request can satisfy every criterion, or None."""
    prefixes, paths = match.path_globs()
    if prefixes and paths and not any(overlap(p, g) for p in prefixes for g in paths):
        return (
            f"no path both starts with {' or '.join(map(repr, match.path_prefixes))} and matches "
            f"{' or '.join(map(repr, match.paths))}; the criteria are ANDed"
        )
    return None


def _redundant_values(path: str, match: Match) -> Iterable[Problem]:
    """A prefix or glob that another of the same criterion already covers adds nothing (values are ORed)."""
    for key, globs, written in (
        ("path_prefixes", match.path_globs()[0], match.path_prefixes),
        ("paths", match.path_globs()[1], match.paths),
    ):
        for j, glob in enumerate(globs):
            for i, other in enumerate(globs):
                if i != j and covers(other, glob) and (i < j or not covers(glob, other)):
                    yield Problem(
                        f"{path}.{key}[{j}]",
                        f"adds nothing: {key}[{i}] ({written[i]!r}) already matches "
                        "every path this one does; remove one of them",
                    )
                    break


def match_problems(path: str, match: Match, site_hosts: Sequence[str], plan: PlanTier) -> Iterable[Problem]:
    """A rule never reaches beyond its site and can hold; regex needs Business.
    https://developers.cloudflare.com/ruleset-engine/rules-language/operators/#comparison-operators"""
    for h in match.hosts:
        if h not in site_hosts:
            yield Problem(
                f"{path}.hosts", f"{h!r} is not one of the site's hosts on this stage ({', '.join(site_hosts)})"
            )
    message = needs(plan, "regex")
    if (
        message
        and match.expression is not None
        and "matches" in octorules_wirefilter.parse_expression(match.expression)["operators"]
    ):
        yield Problem(f"{path}.expression", f"{message}. Use path_prefixes or paths (wildcards)")
    reason = never_matches(match)
    if reason:
        yield Problem(path, f"can never match: {reason}")
    yield from _redundant_values(path, match)
