"""Which requests stand for a row of the behaviour table, as verify sends them.

Per row: its example request (the plan's), then one request per further term of the row (the cookie, header,
argument or path that defines it), a second path in the class, HEAD where the row covers it, an image where
the row sets Polish, and on a media host a key under each header rule (its stored headers are checked);
every request is checked against the row itself (``BehaviourRow.matches``), so none stands for another row.
Where the row claims caching a request is sent twice (the second answer should come from the cache) and then
once more differing only in a query argument, which the row's cache key either keeps (a new object) or
ignores (the same object).

Harmless by construction: GET and HEAD only, OPTIONS (never with a body) for a row of methods other than
GET and HEAD, a session cookie whose value cannot be a session, an ``Authorization`` in a scheme no app
accepts. The header-list-truncated class is not sent (it takes a request with very many headers).

A per-run marker, ``?appcdn-verify=<run>.<case>``, gives each request of a run its own cache object where
the cache key keeps that argument, so runs do not read each other's objects. Where the key ignores it
(``query: none``, ``query: only …``), there is no marker: the first answer may be an earlier run's object.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from appcdn import defaults
from appcdn.behaviour.request_atoms import TRUNCATED, Space, example_request
from appcdn.behaviour.table import BehaviourRow, term_text
from appcdn.config.media import HeaderRule
from appcdn.rules.expressions import Request
from appcdn.rules.rulesets import CompiledRule, apply_rules

MARKER = "appcdn-verify"
KEY_ARGUMENT = "appcdn-verify-key"
NOT_A_SESSION = "appcdn-verify-not-a-session"
"""Django session keys are 32 lower-case letters and digits: this value can never be one."""
NOT_A_CREDENTIAL = "AppcdnVerify not-a-credential"
"""An ``Authorization`` scheme no app accepts: nothing is tried, nothing is locked out."""
MAX_TERMS = 12
"""At most this many of a row's terms get a request of their own."""
CACHEABLE_METHODS = frozenset(defaults.CACHEABLE_METHODS)


@dataclass(frozen=True)
class Case:
    """One request a row covers, as sent, and what is checked with it."""

    row: int
    """The row's index in the behaviour table."""
    label: str
    """What it stands for: ``example``, ``cookie sessionid``, ``second path``, ``HEAD``, ``image``…"""
    request: Request
    """As the plan reads it."""
    headers: tuple[tuple[str, str], ...]
    """Request headers beyond Host and User-Agent."""
    query: tuple[str, ...]
    """The query as sent, ``name`` or ``name=value``, the marker included."""
    marked: bool
    """The cache key keeps the marker: this request's object is this run's own."""
    repeat: bool
    """Sent twice: the row claims caching."""
    key_argument: tuple[str, bool] | None
    """(argument, the cache key ignores it): sent once more with it, after the repeat."""
    safety: bool
    """It carries a session cookie, ``Authorization``, an admin or CMS editing path, or a CMS editing argument."""

    @property
    def target(self) -> str:
        return self.request.path + ("?" + "&".join(self.query) if self.query else "")

    def with_key_argument(self) -> str:
        name, _ = self.key_argument or (KEY_ARGUMENT, False)
        return self.target + ("&" if self.query else "?") + f"{name}=2"

    def text(self) -> str:
        extras = [f"cookie {c}" for c in sorted(self.request.cookies)]
        extras += [f"header {h}" for h in sorted(self.request.headers)]
        return " ".join([f"{self.request.method} {self.request.host}{self.target}", *extras])


def is_safety(request: Request, session_cookies: Iterable[str]) -> bool:
    segments = set(request.path.lower().split("/"))
    return bool(
        request.cookies & set(session_cookies)
        or "authorization" in {h.lower() for h in request.headers}
        or segments & {*defaults.ADMIN_SEGMENTS, *defaults.CMS_EDIT_SEGMENTS}
        or request.query_args & set(defaults.CMS_EDIT_QUERY_ARGS)
    )


def ignores(settings: Mapping[str, Any], argument: str) -> bool:
    """Whether the cache key these settings make leaves ``argument`` out (Cloudflare keeps the whole query
    by default)."""
    query = ((settings.get("cache_key") or {}).get("custom_key") or {}).get("query_string") or {}
    if "exclude" in query:
        return bool(query["exclude"].get("all")) or argument in query["exclude"].get("lists", [])
    if "include" in query:
        return not query["include"].get("all") and argument not in query["include"].get("lists", [])
    return False


def _key_argument(settings: Mapping[str, Any]) -> tuple[str, bool]:
    """The argument the key probe varies: one the key names when it leaves named ones out."""
    query = ((settings.get("cache_key") or {}).get("custom_key") or {}).get("query_string") or {}
    named = (query.get("exclude") or {}).get("lists") or []
    argument = named[0] if named else KEY_ARGUMENT
    return argument, ignores(settings, argument)


def _second_paths(path: str) -> list[str]:
    stem, dot, extension = path.rpartition(".")
    candidates = [path + "appcdn-verify", path.rstrip("/") + "/appcdn-verify/"]
    if dot and "/" not in extension:
        candidates.insert(0, f"{stem}-appcdn-verify.{extension}")
    return candidates


def _image_paths(path: str) -> list[str]:
    return [path.rstrip("/") + "/appcdn-verify.jpg", path + "appcdn-verify.jpg", path + ".jpg"]


class CaseBuilder:
    """The cases of the rows of one stack."""

    def __init__(
        self,
        cache_rules: Mapping[str, Sequence[CompiledRule]],
        media: Mapping[str, tuple[Sequence[HeaderRule], str | None]],
        session_cookies: Iterable[str],
        run: str,
    ):
        self.cache_rules = cache_rules
        """host → the cache rules of its zone, in order."""
        self.media = media
        """media host → its header rules, and the container its paths start with (Azure)."""
        self.session_cookies = frozenset(session_cookies)
        self.run = run
        self.count = 0

    def _case(self, row: int, owner: BehaviourRow, label: str, request: Request) -> Case | None:
        if not owner.matches(request) or request.headers_truncated:
            return None
        if request.method not in CACHEABLE_METHODS:
            request = replace(request, method="OPTIONS")
            if not owner.matches(request):
                return None
        settings = apply_rules(self.cache_rules.get(request.host, ()), request)
        cached = owner.outcome.cache != "bypassed" and request.method in CACHEABLE_METHODS
        self.count += 1
        marked = not ignores(settings, MARKER)
        query = sorted(request.query_args) + ([f"{MARKER}={self.run}.{self.count}"] if marked else [])
        cookies = (c if "=" in c else f"{c}={NOT_A_SESSION}" for c in sorted(request.cookies))  # a pair as it is
        headers = [("Cookie", "; ".join(cookies))] * bool(request.cookies)
        headers += [
            (h, NOT_A_CREDENTIAL if h.lower() == "authorization" else "appcdn-verify") for h in sorted(request.headers)
        ]
        return Case(
            row,
            label,
            request,
            tuple(headers),
            tuple(query),
            marked,
            repeat=cached,
            key_argument=_key_argument(settings) if cached and request.method == "GET" else None,
            safety=is_safety(request, self.session_cookies),
        )

    def cases(self, index: int, row: BehaviourRow) -> list[Case]:
        """The requests that stand for ``row``: its example on each of its hosts first."""
        found: list[Case | None] = [
            self._case(index, row, "example", replace(row.example, host=host)) for host in row.hosts
        ]
        example = row.example
        for term in row.covers[1:MAX_TERMS]:
            if dict(term).get(TRUNCATED):
                continue
            literals = dict(term)
            request = example_request(example.host, literals, Space(literals))
            label = term_text(tuple(literal for literal in term if literal[1])) if len(term) > 1 else term_text(term)
            found.append(self._case(index, row, label, request))
        if example.method in CACHEABLE_METHODS:
            for path in _second_paths(example.path):
                second = self._case(index, row, "second path", replace(example, path=path))
                if second is not None:
                    found.append(second)
                    break
            if example.method == "GET" and row.outcome.cache != "bypassed":
                found.append(self._case(index, row, "HEAD", replace(example, method="HEAD")))
            if row.outcome.polish not in ("-", "off"):
                for path in _image_paths(example.path):
                    image = self._case(index, row, "image (Polish)", replace(example, path=path))
                    if image is not None:
                        found.append(image)
                        break
        if example.method in CACHEABLE_METHODS and example.host in self.media:
            rules, container = self.media[example.host]
            for rule in rules:
                path = f"/{container}/" if container else "/"
                path += rule.match.replace("*", "appcdn-verify")
                found.append(self._case(index, row, f"header rule {rule.match!r}", replace(example, path=path)))
        unique: dict[Request, Case] = {}
        for case in found:
            if case is not None:
                unique.setdefault(case.request, case)
        return list(unique.values())


def case_requests(case: Case) -> int:
    """How many requests a case takes."""
    return 1 + case.repeat + (case.key_argument is not None)
