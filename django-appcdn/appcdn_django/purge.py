"""Purge on change: what a save made stale is purged from Cloudflare's cache once the transaction commits.

``later(...)`` collects URLs, cache tags and URL prefixes for the current transaction (de-duplicated) and sends
them on ``transaction.on_commit``, never inside the user's save: batched within Cloudflare's per-request limits
(100 URLs, tags or hosts; 30 prefixes), paced at the plan's rate (Free 5 requests a minute, Pro 5 a second,
Business 10, Enterprise 50), a 429 answered by waiting its ``Retry-After`` (at least the pace, doubling on each
further 429) as long as that stays within ``APPCDN_PURGE_MAX_WAIT`` seconds. Whatever is not purged then (the API
refused, could not be reached, or asked to wait longer) is logged with what it was and recorded in
``PendingPurge``; ``manage.py appcdn_purge --pending`` sends it again. A failure never breaks the save.
(https://developers.cloudflare.com/cache/how-to/purge-cache/)

Through Cloudflare's official SDK, which reads ``CLOUDFLARE_API_TOKEN`` and honours ``CLOUDFLARE_BASE_URL``.
Settings (``appcdn_django.settings.configure`` sets them from the stack's export): ``APPCDN_PURGE`` (on or off),
``APPCDN_PURGE_ZONE_ID``, ``APPCDN_PURGE_PLAN``, ``APPCDN_PURGE_MAX_WAIT``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils.encoding import filepath_to_uri

PER_REQUEST = {"files": 100, "tags": 100, "hosts": 100, "prefixes": 30}
"""The most items of each kind one purge request carries."""
KINDS = tuple(PER_REQUEST)
SECONDS_PER_REQUEST = {"free": 60 / 5, "pro": 1 / 5, "business": 1 / 10, "enterprise": 1 / 50}
"""The plan's purge rate, as the least time between two requests."""
DEFAULT_MAX_WAIT = 10.0

logger = logging.getLogger("appcdn_django.purge")


@dataclass
class Items:
    """What to purge, by kind, each in first-seen order without repeats."""

    by_kind: dict[str, dict[str, None]] = field(default_factory=lambda: {kind: {} for kind in KINDS})

    def add(self, kind: str, values: Iterable[str]) -> None:
        self.by_kind[kind].update(dict.fromkeys(values))

    def __bool__(self) -> bool:
        return any(self.by_kind.values())

    def requests(self) -> list[tuple[str, list[str]]]:
        """(kind, values) of each request, within the per-request limits."""
        batches = []
        for kind, values in self.by_kind.items():
            listed = list(values)
            size = PER_REQUEST[kind]
            batches += [(kind, listed[i : i + size]) for i in range(0, len(listed), size)]
        return batches


def enabled() -> bool:
    return bool(getattr(settings, "APPCDN_PURGE", False))


_collecting = threading.local()


def later(*, files: Iterable[str] = (), tags: Iterable[str] = (), prefixes: Iterable[str] = ()) -> None:
    """Purge these once the current transaction commits (at once outside one); nothing when purge is off."""
    if not enabled():
        return
    items: Items | None = getattr(_collecting, "items", None)
    if items is None:
        items = _collecting.items = Items()
    items.add("files", files)
    items.add("tags", tags)
    items.add("prefixes", prefixes)
    # the first callback to run sends all the transaction collected, the others find nothing (what a rolled-back
    # transaction collected goes with the next commit: one purge too many, never one too few)
    transaction.on_commit(_flush)


def _flush() -> None:
    items, _collecting.items = getattr(_collecting, "items", None), None
    if items:
        Purger.from_settings().purge(items)


def stored_file_changed(url: str, name: str) -> None:
    """A public stored file ``name`` at ``url`` was saved over or deleted: purge its URL, and by prefix the
    URLs derived from it: its thumbnails, ``<APPCDN_PURGE_THUMBNAILS><name>__…`` beside it (easy-thumbnails'
    names, under the folder django-filer gives them)."""
    if not enabled():
        return
    path = filepath_to_uri(name)
    base = url[: -len(path)] if url.endswith(path) else url.rsplit("/", 1)[0] + "/"
    thumbnails = getattr(settings, "APPCDN_PURGE_THUMBNAILS", "filer_public_thumbnails/")
    derived = thumbnails and not path.startswith(thumbnails)  # a thumbnail has no thumbnails of its own
    later(files=[url], prefixes=[f"{base}{thumbnails}{path}__".split("://", 1)[-1]] if derived else [])


class Pace:
    """The least time between two requests of this process, whatever thread sends them."""

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic):
        self.seconds, self.clock = seconds, clock
        self.lock = threading.Lock()
        self.next_at = 0.0

    def wait_needed(self) -> float:
        with self.lock:
            return max(0.0, self.next_at - self.clock())

    def sent(self, wait_after: float = 0.0) -> None:
        with self.lock:
            self.next_at = self.clock() + max(self.seconds, wait_after)


_paces: dict[str, Pace] = {}


@dataclass
class Purger:
    zone_id: str
    pace: Pace
    max_wait: float
    sleep: Callable[[float], None] = time.sleep

    @classmethod
    def from_settings(cls) -> Purger:
        plan = getattr(settings, "APPCDN_PURGE_PLAN", "free")
        pace = _paces.setdefault(plan, Pace(SECONDS_PER_REQUEST[plan]))
        return cls(
            settings.APPCDN_PURGE_ZONE_ID, pace, float(getattr(settings, "APPCDN_PURGE_MAX_WAIT", DEFAULT_MAX_WAIT))
        )

    def purge(self, items: Items) -> Items:
        """Send ``items``; what could not be purged is logged, recorded as pending, and returned."""
        left = Items()
        try:
            client = _client()
        except Exception as error:  # the SDK missing or no token: the save stays, the purge waits
            failed = [(kind, values, f"{type(error).__name__}: {error}") for kind, values in items.requests()]
        else:
            failed = []
            for kind, values in items.requests():
                reason = None if failed else self._send(client, kind, values)
                if failed or reason:
                    failed.append((kind, values, reason or "not sent after an earlier request failed"))
        for kind, values, reason in failed:
            left.add(kind, values)
            logger.error(
                "appcdn purge: not purged (%s), recorded for `manage.py appcdn_purge --pending`: %s %s",
                reason,
                kind,
                " ".join(values),
            )
        if left:
            from appcdn_django.models import PendingPurge

            PendingPurge.record(self.zone_id, left, failed[0][2])
        return left

    def _send(self, client: Any, kind: str, values: list[str]) -> str | None:
        """One request, waiting for the pace and through 429s; None when it was accepted, else why not."""
        import cloudflare

        backoff = self.pace.seconds
        while True:
            wait = self.pace.wait_needed()
            if wait > self.max_wait:
                return f"the plan's rate allows the next request in {wait:.1f} s"
            if wait:
                self.sleep(wait)
            try:
                client.cache.purge(zone_id=self.zone_id, **{kind: values})
            except cloudflare.RateLimitError as error:
                after = max(_retry_after(error), backoff)
                backoff *= 2
                self.pace.sent(after)
                if after > self.max_wait:
                    return f"Cloudflare answered 429 and asks to wait {after:.1f} s"
                continue
            except cloudflare.APIStatusError as error:
                self.pace.sent()
                return f"Cloudflare answered {error.status_code}: {_messages(error.body)}"
            except cloudflare.APIError as error:
                return f"the Cloudflare API could not be reached: {error.message}"
            self.pace.sent()
            return None


def _client() -> Any:
    from cloudflare import Cloudflare

    # the token: CLOUDFLARE_API_TOKEN; the base URL: CLOUDFLARE_BASE_URL, else Cloudflare's. 429s are paced here.
    return Cloudflare(max_retries=0)


def _retry_after(error: Any) -> float:
    try:
        return float(error.response.headers.get("retry-after", "0"))
    except ValueError:
        return 0.0


def _messages(body: object) -> str:
    errors = body.get("errors") if isinstance(body, dict) else None
    if isinstance(errors, list) and errors:
        return "; ".join(
            f"{e.get('message')} (code {e.get('code')})" if isinstance(e, dict) else str(e) for e in errors
        )
    return str(body)[:200]
