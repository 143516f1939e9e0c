"""What the edge's answers say about a row, read the way Cloudflare documents them
(https://developers.cloudflare.com/cache/concepts/cache-responses/): ``cf-cache-status`` HIT, STALE, UPDATING
and REVALIDATED are answered from the cache; MISS and EXPIRED came from the origin and were stored; BYPASS
(the origin forbade it: ``no-store``, ``private``, ``no-cache``, ``max-age=0``, or a ``Set-Cookie``) and
DYNAMIC (not eligible) were not stored; NONE/UNKNOWN was answered before the cache (a redirect, the WAF, a
Worker). ``age`` is how long an answer has been in the cache, ``cache-control`` the browser TTL as Cloudflare
rewrote it, ``cf-polished`` the mark of Polish on an image.

A request a row bypasses that is stored or answered from the cache disagrees; when it carries a session
cookie, ``Authorization``, an admin or CMS editing path or argument, that is a safety failure whatever else.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from appcdn.behaviour.table import BehaviourRow
from appcdn.commands.verify.cases import Case
from appcdn.commands.verify.client import Answer
from appcdn.config.media import HeaderRule
from appcdn.rules.media import first_match, object_headers

FROM_CACHE = ("HIT", "STALE", "UPDATING", "REVALIDATED")
STORED = ("MISS", "EXPIRED")
NOT_STORED = ("BYPASS", "DYNAMIC")
AGREES, DISAGREES, CANNOT_TELL = "agrees", "disagrees", "cannot tell"
OBSERVABLE = (200, 203, 206)
"""Answers whose caching shows the row's settings; any other status is cached by its own TTL (Cloudflare's
defaults by status, the row's status TTLs), e.g. a probe path the origin does not know (404)."""
BY_STATUS = (
    "the edge caches this status by its own TTL (a path the origin does not know?), so the row cannot be observed here"
)
AGE_SLACK = 60
"""Seconds an ``age`` may exceed the edge TTL (clocks, revalidation in flight)."""
UNITS = {"d": 86400, "h": 3600, "min": 60, "s": 1}


@dataclass(frozen=True)
class Exchange:
    """One request of a case and what came back."""

    step: str
    """``first``, ``repeat`` or ``key``."""
    method: str
    target: str
    answer: Answer | None
    error: str = ""

    @property
    def status(self) -> str | None:
        if self.answer is None:
            return None
        value = self.answer.headers.get("cf-cache-status")
        return value.strip().upper() if value else None

    def header(self, name: str) -> str | None:
        return None if self.answer is None else self.answer.headers.get(name)

    def said(self) -> str:
        if self.answer is None:
            return f"no answer ({self.error})"
        parts = [f"cf-cache-status {self.status or 'absent'}", f"HTTP {self.answer.status}"]
        parts += [f"{name} {self.header(name)}" for name in ("age", "cache-control") if self.header(name)]
        return ", ".join(parts)


@dataclass(frozen=True)
class Finding:
    verdict: str
    case: Case
    why: str
    leak: bool = False
    """A cached answer that carries Set-Cookie: a safety failure whatever the request."""

    @property
    def safety_failure(self) -> bool:
        return self.verdict == DISAGREES and (self.case.safety or self.leak)


def seconds(duration: str) -> int | None:
    """The table's ``1h``, ``365d``, ``5min``, ``30s``; None for words (``origin``…)."""
    found = re.fullmatch(r"(\d+)(d|h|min|s)", duration)
    return int(found.group(1)) * UNITS[found.group(2)] if found else None


def max_age(cache_control: str | None) -> int | None:
    found = re.search(r"(?:^|[,\s])max-age=(\d+)", cache_control or "")
    return int(found.group(1)) if found else None


def forbids_storing(exchange: Exchange) -> str | None:
    """Why the origin's answer cannot be stored when the origin decides, in words; None if it can."""
    control = (exchange.header("cache-control") or "").lower()
    if exchange.header("set-cookie") is not None:
        return "Set-Cookie"
    for directive in ("no-store", "private", "no-cache"):
        if directive in control:
            return f"Cache-Control: {directive}"
    if re.search(r"(?:s-maxage|max-age)=0\b", control):
        return "Cache-Control: max-age=0"
    if not control:
        return "no Cache-Control"
    return None


def _bypassed(case: Case, exchanges: Sequence[Exchange]) -> list[Finding]:
    for exchange in exchanges:
        status = exchange.status
        if status in FROM_CACHE:
            return [Finding(DISAGREES, case, f"answered from the cache ({exchange.said()}); the row bypasses it")]
        if status in STORED:
            return [
                Finding(
                    DISAGREES,
                    case,
                    f"stored in the cache ({exchange.said()}): the next such request is answered from it; "
                    "the row bypasses it",
                )
            ]
    first = exchanges[0]
    if first.status in NOT_STORED:
        return [Finding(AGREES, case, f"not cached ({first.status})")]
    if first.status is None:
        return [
            Finding(
                CANNOT_TELL, case, f"no cf-cache-status ({first.said()}): the answer did not pass Cloudflare's cache"
            )
        ]
    return [Finding(CANNOT_TELL, case, f"answered before the cache ({first.said()})")]


def _cached(case: Case, row: BehaviourRow, exchanges: Sequence[Exchange]) -> list[Finding]:
    first = exchanges[0]
    if first.status is None:
        return [
            Finding(
                CANNOT_TELL, case, f"no cf-cache-status ({first.said()}): the answer did not pass Cloudflare's cache"
            )
        ]
    if first.status not in (*FROM_CACHE, *STORED, *NOT_STORED):
        return [Finding(CANNOT_TELL, case, f"answered before the cache ({first.said()})")]
    origin_decides = row.outcome.edge_ttl.startswith("origin")
    if first.status in NOT_STORED and all(e.status in NOT_STORED for e in exchanges[:2]):
        reason = forbids_storing(first)
        if origin_decides and reason:
            return [
                Finding(
                    CANNOT_TELL,
                    case,
                    f'the origin sent {reason} ({first.status}), so "cached, origin decides" cannot be observed',
                )
            ]
        if first.answer is not None and first.answer.status not in OBSERVABLE:
            return [Finding(CANNOT_TELL, case, f"HTTP {first.answer.status} ({first.status}): {BY_STATUS}")]
        why = f"the row caches it (edge TTL {row.outcome.edge_ttl}); the edge did not store it ({first.said()})"
        return [Finding(DISAGREES, case, why + (f"; the origin sent {reason}" if reason else ""))]
    problems: list[str] = []
    if case.marked and first.status in FROM_CACHE:
        problems.append(
            f"answered from the cache the first time, with this run's marker ({first.said()}): the cache key "
            "leaves the query out, or the edge caches everything"
        )
    repeat = next((e for e in exchanges if e.step == "repeat"), None)
    if repeat is not None and repeat.answer is not None and repeat.status not in FROM_CACHE:
        if repeat.answer.status not in OBSERVABLE:
            return [Finding(CANNOT_TELL, case, f"HTTP {repeat.answer.status} ({repeat.status} again): {BY_STATUS}")]
        problems.append(f"sent again, not answered from the cache ({repeat.said()})")
    edge_ttl = seconds(row.outcome.edge_ttl)
    for exchange in exchanges:
        age = exchange.header("age")
        if edge_ttl is not None and age and age.strip().isdigit() and int(age) > edge_ttl + AGE_SLACK:
            problems.append(f"age {age}s is beyond the edge TTL {row.outcome.edge_ttl} ({exchange.said()})")
            break
    browser_ttl = seconds(row.outcome.browser_ttl)
    if browser_ttl is not None and first.answer is not None:
        got = max_age(first.header("cache-control"))
        if got != browser_ttl:
            problems.append(
                f"browser TTL: cache-control {first.header('cache-control') or 'absent'}, the row sets "
                f"max-age={browser_ttl} ({row.outcome.browser_ttl})"
            )
    key = next((e for e in exchanges if e.step == "key"), None)
    if key is not None and key.answer is not None and case.key_argument is not None:
        argument, ignored = case.key_argument
        if ignored and key.status not in FROM_CACHE:
            problems.append(
                f"two requests differing only in ?{argument} did not share one object ({key.said()}); "
                f"the row's cache key ({row.outcome.cache_key}) leaves ?{argument} out"
            )
        if not ignored and key.status in FROM_CACHE:
            problems.append(
                f"two requests differing only in ?{argument} shared one object ({key.said()}); the "
                f"row's cache key ({row.outcome.cache_key}) keeps it"
            )
    findings = [Finding(DISAGREES, case, p) for p in problems]
    findings += _polish(case, row, exchanges)
    if not problems:
        statuses = " then ".join(e.status or "-" for e in exchanges)
        findings.insert(0, Finding(AGREES, case, f"cached ({statuses})"))
    return findings


def _polish(case: Case, row: BehaviourRow, exchanges: Sequence[Exchange]) -> list[Finding]:
    planned = row.outcome.polish
    images = [e for e in exchanges if e.status in FROM_CACHE and (e.header("content-type") or "").startswith("image/")]
    if not images:
        if case.label.startswith("image"):
            return [Finding(CANNOT_TELL, case, f"Polish {planned}: no cached image came back ({exchanges[0].said()})")]
        return []
    polished = images[-1].header("cf-polished")
    if planned == "off" and polished is not None:
        return [
            Finding(DISAGREES, case, f"Polish is off for this row, yet the image was polished (cf-polished {polished})")
        ]
    if planned not in ("off", "-") and polished is None:
        return [
            Finding(
                DISAGREES,
                case,
                f"Polish {planned} planned: a cached image came back without cf-polished ({images[-1].said()})",
            )
        ]
    return []


def stored_object(
    case: Case, row: BehaviourRow, exchanges: Sequence[Exchange], rules: Sequence[HeaderRule], container: str | None
) -> list[Finding]:
    """A media host's answer against the stored object's header rule: what the edge passes through unchanged
    (Content-Disposition, Content-Language; Cache-Control where the row leaves the browser TTL to the object)."""
    first = exchanges[0]
    if first.answer is None or case.request.method != "GET":
        return []
    path = case.request.path
    prefix = f"/{container}/" if container else "/"
    if first.answer.status != 200 or not path.startswith(prefix):
        return [Finding(CANNOT_TELL, case, f"stored headers: no object at this key ({first.said()})")]
    rule = first_match(rules, path.removeprefix(prefix))
    if rule is None:
        return []
    expected = object_headers(rule)
    if row.outcome.browser_ttl not in ("origin", "-"):
        expected.pop("Cache-Control")
    wrong = [
        f"{name} {first.header(name.lower()) or 'absent'} (its header rule {rule.match!r}: {value})"
        for name, value in expected.items()
        if (first.header(name.lower()) or "").replace(" ", "") != value.replace(" ", "")
    ]
    if wrong:
        return [Finding(DISAGREES, case, "the stored object's headers differ from its rule: " + "; ".join(wrong))]
    return [Finding(AGREES, case, f"stored headers as its header rule {rule.match!r} says")]


def judge(case: Case, row: BehaviourRow, exchanges: Sequence[Exchange]) -> list[Finding]:
    if exchanges[0].answer is None:
        return [Finding(CANNOT_TELL, case, exchanges[0].said())]
    if row.outcome.cache == "bypassed" or case.request.method not in ("GET", "HEAD"):
        return _bypassed(case, exchanges)
    leaked = next((e for e in exchanges if e.status in FROM_CACHE and e.header("set-cookie") is not None), None)
    findings = []
    if leaked is not None:
        findings.append(
            Finding(DISAGREES, case, f"an answer from the cache carries Set-Cookie ({leaked.said()})", leak=True)
        )
    if row.outcome.cache != "cached":
        return [*findings, Finding(CANNOT_TELL, case, f"Cloudflare's default decides ({exchanges[0].said()})")]
    return [*findings, *_cached(case, row, exchanges)]
