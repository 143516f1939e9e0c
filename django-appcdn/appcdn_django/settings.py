"""Inside the app: Django settings from what the stack exports (``sites.<name>.app_env`` and
``sites.<name>.django``), with no dependency beyond the standard library, so a Django project can import it from
its settings module::

    from appcdn_django.settings import configure
    configure(globals())   # CACHES, CMS_CACHE_DURATIONS; the media storage when the media export is there

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


def configure(settings: MutableMapping[str, Any], env: Mapping[str, str] = os.environ) -> None:
    """Set ``CACHES`` and ``CMS_CACHE_DURATIONS`` in a settings module's namespace, and refuse a cache that
    settings set elsewhere if it is local to the container; then the media storage (``configure_media``)."""
    refusal = APP_ENV.refusal(env)
    if refusal:
        raise AppSettingsError(refusal)
    settings["CACHES"] = caches(env)
    settings["CMS_CACHE_DURATIONS"] = cms_cache_durations(env)
    for alias, cache in settings["CACHES"].items():
        if cache["BACKEND"].endswith(("LocMemCache", "FileBasedCache")):
            raise AppSettingsError(f"CACHES[{alias!r}] is local to one container; use the database cache or Redis")
    configure_media(settings, env)
