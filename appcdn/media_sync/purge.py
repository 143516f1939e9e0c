"""Purge from Cloudflare's cache what a run changed on a media domain.

Edge caches are URL-based and blind to content: an object whose headers changed stays cached with its old
TTL until it expires. So after a run, per rule: every served object of the rule changed (or too many to name)
→ its URL prefixes; else → the changed objects' URLs. Requests carry at most 100 URLs (500 on Enterprise) or
30 prefixes (https://developers.cloudflare.com/cache/how-to/purge-cache/, .../purge_by_prefix/). Purge is rate
limited per account (Free: 5 requests a minute); the SDK retries 429 with ``Retry-After``. It reads
``CLOUDFLARE_API_TOKEN`` and honours ``CLOUDFLARE_BASE_URL``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TextIO

from appcdn.config.plans import PlanTier
from appcdn.media_sync.report import SyncReport

URLS_PER_REQUEST: dict[PlanTier, int] = {"free": 100, "pro": 100, "business": 100, "enterprise": 500}
PREFIXES_PER_REQUEST = 30
MAX_RETRIES = 8
"""The SDK's retries of a request answered 429 (or 5xx), with backoff and ``Retry-After``."""


class PurgeError(RuntimeError):
    """Cloudflare refused a purge, or the zone could not be found."""


@dataclass(frozen=True)
class PurgePlan:
    urls: tuple[str, ...] = ()
    """Full URLs (https://host/path)."""
    prefixes: tuple[str, ...] = ()
    """Host and path prefixes, without scheme (host/path/)."""

    def __bool__(self) -> bool:
        return bool(self.urls or self.prefixes)

    def requests(self, plan: PlanTier) -> Iterator[dict[str, list[str]]]:
        """The purge request bodies, within the per-request limits."""
        yield from ({"prefixes": list(b)} for b in _batches(self.prefixes, PREFIXES_PER_REQUEST))
        yield from ({"files": list(b)} for b in _batches(self.urls, URLS_PER_REQUEST[plan]))

    def lines(self) -> list[str]:
        return [f"  prefix {p}" for p in self.prefixes] + [f"  url {u}" for u in self.urls]


def _batches(items: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def purge_plan(report: SyncReport, host: str) -> PurgePlan:
    """What to purge on ``host`` after ``report``'s run."""
    urls: list[str] = []
    prefixes: set[str] = set()
    for index in sorted(report.rules):
        tally = report.rules[index]
        if tally.served_changed_count == 0:
            continue
        if tally.purge_by_prefix and tally.purge_prefixes:
            prefixes.update(host + path for path in tally.purge_prefixes)
        else:
            urls += [f"https://{host}{path}" for path in tally.served_changed]
    return PurgePlan(tuple(dict.fromkeys(urls)), tuple(sorted(prefixes)))


def rules_plan(paths: Sequence[str], host: str) -> PurgePlan:
    """Everything served under ``paths`` (URL path prefixes) on ``host``, by prefix."""
    return PurgePlan(prefixes=tuple(sorted({host + path for path in paths})))


def _client(token: str | None) -> Any:
    from cloudflare import Cloudflare

    # without a token: CLOUDFLARE_API_TOKEN; the base URL: CLOUDFLARE_BASE_URL, else Cloudflare's
    return Cloudflare(api_token=token, max_retries=MAX_RETRIES)


def _zone_id(client: Any, zone_id: str | None, zone_name: str) -> str:
    if zone_id:
        return zone_id
    for zone in client.zones.list(name=zone_name):
        found: str = zone.id
        return found
    raise PurgeError(f"zone {zone_name} not found with this API token")


def purge(
    plan: PurgePlan, zone_name: str, zone_id: str | None, tier: PlanTier, out: TextIO, token: str | None = None
) -> int:
    """Send the purge requests; return how many were sent. Raises ``PurgeError``."""
    import cloudflare

    client = _client(token)
    sent = 0
    try:
        zone = _zone_id(client, zone_id, zone_name)
        for body in plan.requests(tier):
            client.cache.purge(zone_id=zone, **body)
            sent += 1
    except cloudflare.APIError as error:
        raise PurgeError(f"Cloudflare refused the purge after {sent} request(s): {error}") from error
    print(
        f"purged on {zone_name}: {len(plan.prefixes)} prefix(es), {len(plan.urls)} URL(s) in {sent} request(s)",
        file=out,
    )
    return sent
