"""Inside the app: Django settings from what the stack exports (``sites.<name>.app_env`` and
``sites.<name>.django``), with no dependency beyond the standard library, so a Django project can import it from
its settings module::

    from appcdn_django.settings import configure
    configure(globals())   # CACHES, CMS_CACHE_DURATIONS, purge on change; the media storage when exported

Without ``CACHE_URL`` (local development) nothing is cached: a dummy cache and every CMS duration 0, as on
Test. A local-memory or file cache is refused at start-up: the app runs in several containers in parallel.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, MutableMapping
from typing import Any
from urllib.parse import urlsplit

from appcdn_django.contracts import APP_ENV
from appcdn_django.media import configure_media

LOCAL_DEVELOPMENT_DURATIONS = {"content": 0, "menus": 0, "permissions": 0}


class AppSettingsError(RuntimeError):
    """The app's environment cannot be turned into safe settings."""


def caches(env: Mapping[str, str] = os.environ) -> dict[str, dict[str, Any]]:
    """Django's ``CACHES`` from ``CACHE_URL``: ``db://<table>`` (database cache) or ``redis[s]://…``."""
    url = env.get("CACHE_URL", "")
    if not url:
        return {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
    scheme = urlsplit(url).scheme
    if scheme == "db":
        table = url[len("db://") :]
        if not table:
            raise AppSettingsError("CACHE_URL db:// needs a table name: db://appcdn_cache")
        return {"default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": table}}
    if scheme in ("redis", "rediss"):
        return {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url}}
    if scheme in ("locmem", "file", "filecache"):
        raise AppSettingsError(
            f"CACHE_URL {scheme}:// is a per-container cache; the app runs in several "
            "containers in parallel, so use the database cache or Redis"
        )
    raise AppSettingsError(f"CACHE_URL scheme {scheme!r} is not supported; use db://<table> or rediss://…")


def cms_cache_durations(env: Mapping[str, str] = os.environ) -> dict[str, int]:
    """django CMS ``CMS_CACHE_DURATIONS`` from the exported JSON; all 0 when it is not set."""
    raw = env.get("CMS_CACHE_DURATIONS")
    if not raw:
        return dict(LOCAL_DEVELOPMENT_DURATIONS)
    durations = json.loads(raw)
    if set(durations) != set(LOCAL_DEVELOPMENT_DURATIONS) or not all(
        isinstance(v, int) and v >= 0 for v in durations.values()
    ):
        raise AppSettingsError(f"CMS_CACHE_DURATIONS must hold content, menus and permissions in seconds: {raw}")
    return {k: int(v) for k, v in durations.items()}


PURGE_PLANS = ("free", "pro", "business", "enterprise")


def purge_settings(env: Mapping[str, str] = os.environ) -> dict[str, Any]:
    """``appcdn_django.purge``'s settings: ``APPCDN_PURGE`` on or off (off unless the stack says on: Live),
    the zone (``CLOUDFLARE_ZONE_ID``) and its plan, whose rate the purges keep (``APPCDN_CLOUDFLARE_PLAN``)."""
    switch, plan, zone_id = (
        env.get("APPCDN_PURGE", "off"),
        env.get("APPCDN_CLOUDFLARE_PLAN", "free"),
        env.get("CLOUDFLARE_ZONE_ID", ""),
    )
    if switch not in ("on", "off"):
        raise AppSettingsError(f"APPCDN_PURGE must be on or off, not {switch!r}")
    if plan not in PURGE_PLANS:
        raise AppSettingsError(f"APPCDN_CLOUDFLARE_PLAN must be one of {', '.join(PURGE_PLANS)}, not {plan!r}")
    if switch == "on" and not zone_id:
        raise AppSettingsError("APPCDN_PURGE is on but CLOUDFLARE_ZONE_ID is not set: the zone to purge")
    return {"APPCDN_PURGE": switch == "on", "APPCDN_PURGE_ZONE_ID": zone_id, "APPCDN_PURGE_PLAN": plan}


def configure(settings: MutableMapping[str, Any], env: Mapping[str, str] = os.environ) -> None:
    """Set ``CACHES`` and ``CMS_CACHE_DURATIONS`` in a settings module's namespace, and refuse a cache that
    settings set elsewhere if it is local to the container; then purge on change (``purge_settings``; set
    ``APPCDN_PURGE`` after this call to switch it) and the media storage (``configure_media``)."""
    refusal = APP_ENV.refusal(env)
    if refusal:
        raise AppSettingsError(refusal)
    settings["CACHES"] = caches(env)
    settings["CMS_CACHE_DURATIONS"] = cms_cache_durations(env)
    for alias, cache in settings["CACHES"].items():
        if cache["BACKEND"].endswith(("LocMemCache", "FileBasedCache")):
            raise AppSettingsError(f"CACHES[{alias!r}] is local to one container; use the database cache or Redis")
    settings.update(purge_settings(env))
    configure_media(settings, env)
