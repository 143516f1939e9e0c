"""Run as a separate process: ``write KEY VALUE``, ``read KEY`` or ``createcachetable``, against the cache the
environment configures; ``settings`` prints the CMS cache durations the app sees and where its appcdn_django
comes from; ``exercise PREFIX`` calls every operation of Django's cache API (Redis only) and prints which commands
outside it the server refused."""

import importlib.util
import json
import sys
from collections.abc import Callable

import django

import appcdn_django

django.setup()

from django.conf import settings  # noqa: E402 (Django is set up first)
from django.core.cache import cache  # noqa: E402 (Django is set up first)
from django.core.management import call_command  # noqa: E402 (Django is set up first)

command, *args = sys.argv[1:]
if command == "write":
    cache.set(args[0], args[1], 300)
elif command == "read":
    print(json.dumps(cache.get(args[0])))
elif command == "exercise":
    from django.core.cache import caches
    from redis.exceptions import NoPermissionError

    k = args[0]
    assert cache.add(f"{k}:a", 1, 60) and not cache.add(f"{k}:a", 2, 60)
    cache.set(f"{k}:b", "x", None)
    assert cache.touch(f"{k}:b", 60) and cache.touch(f"{k}:b", None) and cache.has_key(f"{k}:b")
    assert cache.incr(f"{k}:a", 5) == 6 and cache.decr(f"{k}:a", 2) == 4
    cache.set_many({f"{k}:c": 1, f"{k}:d": 2}, 60)
    assert cache.get_many([f"{k}:c", f"{k}:d", f"{k}:none"]) == {f"{k}:c": 1, f"{k}:d": 2}
    assert cache.delete(f"{k}:c") and cache.get_or_set(f"{k}:e", "y", 60) == "y"
    cache.delete_many([f"{k}:d", f"{k}:e"])
    cache.clear()
    assert cache.get(f"{k}:a") is None
    client = caches["default"]._cache.get_client(write=True)  # the backend's own client, as the app user
    refused = []
    checks: list[tuple[str, Callable[[], object]]] = [
        ("CONFIG", lambda: client.config_get("maxmemory")),
        ("KEYS", lambda: client.keys("*")),
    ]
    for name, call in checks:
        try:
            call()
        except NoPermissionError:
            refused.append(name)
    print(json.dumps({"api": "ok", "refused": refused}))
elif command == "createcachetable":
    call_command("createcachetable")
elif command == "settings":
    print(
        json.dumps(
            {
                "CMS_CACHE_DURATIONS": settings.CMS_CACHE_DURATIONS,
                "BACKEND": settings.CACHES["default"]["BACKEND"],
                "appcdn_django": appcdn_django.__file__,
                "pulumi": importlib.util.find_spec("pulumi") is not None,
            }
        )
    )
