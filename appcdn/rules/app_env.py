"""What the app reads from its environment, per site and stage: the shared cache and django CMS durations.

The contract (``APPCDN_APP_ENV_VERSION``, ``APPCDN_READER``, ``CACHE_URL``, ``CMS_CACHE_DURATIONS``) is read
by ``appcdn_django.settings`` (django-appcdn) inside the app.
"""

from __future__ import annotations

import json

from appcdn import defaults
from appcdn.config.app import AppConfig, CacheStore
from appcdn.config.fields import Stage
from appcdn.config.plans import PlanTier
from appcdn_django.contracts import APP_ENV


def cms_cache_durations(app: AppConfig, stage: Stage) -> dict[str, int]:
    """django CMS cache durations on the stage: the configured ones, else the stage's defaults."""
    if app.cms_cache_durations is not None:
        return app.cms_cache_durations.model_dump()
    return dict(defaults.CMS_CACHE_DURATIONS[stage])


def fixed_cache_url(store: CacheStore) -> str | None:
    """The cache URL when config alone gives it (database, external Redis); None for a managed Redis."""
    if store.backend == "database":
        return f"db://{store.table}"
    if store.redis is not None and store.redis.url is not None:
        return store.redis.url.get_secret_value()
    return None


def app_env(app: AppConfig, stage: Stage) -> dict[str, str]:
    """The app's environment variables but ``CACHE_URL``, which the program adds as a secret (it may hold a
    password): from ``fixed_cache_url``, or from the managed cache store once it exists."""
    return {
        **APP_ENV.exported(),
        "CMS_CACHE_DURATIONS": json.dumps(cms_cache_durations(app, stage), sort_keys=True),
    }


def purge_env(stage: Stage, plan: PlanTier) -> dict[str, str]:
    """Purge on change in the app (``appcdn_django.purge``): on for Live, off on Test, at the zone plan's rate.
    The program adds ``CLOUDFLARE_ZONE_ID`` and, with ``purge_token``, the token."""
    return {"APPCDN_PURGE": defaults.PURGE_ON_CHANGE[stage], "APPCDN_CLOUDFLARE_PLAN": plan}
