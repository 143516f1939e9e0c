"""A class of requests' outcome in the behaviour table's words: cache, edge and browser TTL, Polish, cache key,
status-code TTLs, serve-stale, from the settings the compiled rules make for it.

Cloudflare's defaults where no rule says: the edge respects the origin (and caches only its default static
extensions without a cache rule); the browser gets the zone's Browser Cache TTL; stale content is served
while revalidating.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from appcdn.behaviour.request_space import Effect

CLOUDFLARE_BROWSER_CACHE_TTL = 4 * 3600
"""The zone's Browser Cache TTL unless changed (appcdn does not manage it).
https://developers.cloudflare.com/cache/how-to/edge-browser-cache-ttl/#browser-cache-ttl"""


def duration(seconds: int) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def _edge(settings: Mapping[str, Any]) -> str:
    edge = settings.get("edge_ttl")
    if edge is None or edge["mode"] == "respect_origin":
        return "origin, else Cloudflare defaults"
    if edge["mode"] == "bypass_by_default":
        return "origin, else bypass"
    return duration(edge["default"])


def _browser(settings: Mapping[str, Any]) -> str:
    browser = settings.get("browser_ttl")
    if browser is None:
        return f"zone setting ({duration(CLOUDFLARE_BROWSER_CACHE_TTL)} default)"
    if browser["mode"] == "respect_origin":
        return "origin"
    if browser["mode"] == "bypass":
        return "bypass"
    return duration(browser["default"])


def outcome(settings: Mapping[str, Any]) -> tuple[str, str, str]:
    """(cache, edge TTL, browser TTL) in the table's words, for the cache settings that hold for a request."""
    cached = settings.get("cache")
    if cached is None:
        return "Cloudflare default (static extensions)", _edge(settings), _browser(settings)
    if cached:
        return "cached", _edge(settings), _browser(settings)
    return "bypassed", "-", "-"


def _ttl(value: int) -> str:
    return {0: "no-cache", -1: "no-store"}.get(value, duration(value))


def _status_ttls(settings: Mapping[str, Any]) -> str:
    parts = []
    for entry in (settings.get("edge_ttl") or {}).get("status_code_ttls", []):
        if "status_code" in entry:
            codes = str(entry["status_code"])
        else:
            bounds = entry["status_code_range"]
            codes = f"{bounds.get('from_', '')}-{bounds.get('to', '')}"
        parts.append(f"{codes}: {_ttl(entry['value'])}")
    return ", ".join(parts) or "-"


def _cache_key(settings: Mapping[str, Any]) -> str:
    key = settings.get("cache_key") or {}
    parts = []
    query = (key.get("custom_key") or {}).get("query_string")
    if query:
        which, names = next(iter(query.items()))
        listed = ",".join(names.get("lists", []))
        parts.append(
            {("include", True): "query: all", ("exclude", True): "query: none"}.get(
                (which, bool(names.get("all"))),
                f"query: only {listed}" if which == "include" else f"query: not {listed}",
            )
        )
    for flag, words in (("ignore_query_strings_order", "query sorted"), ("cache_deception_armor", "deception armor")):
        if flag in key:
            parts.append(words + ("" if key[flag] else " off"))
    return ", ".join(parts) or "default"


def _other(settings: Mapping[str, Any]) -> str:
    flags = [("origin_error_page_passthru", "origin error pages"), ("respect_strong_etags", "strong ETags")]
    return ", ".join(words + ("" if settings[flag] else " off") for flag, words in flags if flag in settings) or "-"


@dataclass(frozen=True)
class Outcome:
    """What happens to a class of requests, in the table's words."""

    cache: str
    edge_ttl: str = "-"
    browser_ttl: str = "-"
    polish: str = "-"
    cache_key: str = "-"
    status_ttls: str = "-"
    serve_stale: str = "-"
    other: str = "-"


def effect_outcome(effect: Effect, zone_polish: str) -> Outcome:
    settings = dict(effect.cache)
    cache, edge, browser = outcome(settings)
    if cache == "bypassed" or effect.config is None:
        return Outcome("bypassed")
    stale = settings.get("serve_stale")
    return Outcome(
        cache,
        edge,
        browser,
        polish=dict(effect.config).get("polish", zone_polish),
        cache_key=_cache_key(settings),
        status_ttls=_status_ttls(settings),
        serve_stale="on (default)" if stale is None else ("off" if stale["disable_stale_while_updating"] else "on"),
        other=_other(settings),
    )
