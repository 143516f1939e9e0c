"""Run as a separate process: ``write KEY VALUE``, ``read KEY`` or ``createcachetable``, against the cache the
environment configures; ``settings`` prints the CMS cache durations the app sees."""

import json
import sys

import django

django.setup()

from django.conf import settings  # noqa: E402 (Django is set up first)
from django.core.cache import cache  # noqa: E402 (Django is set up first)
from django.core.management import call_command  # noqa: E402 (Django is set up first)

command, *args = sys.argv[1:]
if command == "write":
    cache.set(args[0], args[1], 300)
elif command == "read":
    print(json.dumps(cache.get(args[0])))
elif command == "createcachetable":
    call_command("createcachetable")
elif command == "settings":
    print(
        json.dumps(
            {"CMS_CACHE_DURATIONS": settings.CMS_CACHE_DURATIONS, "BACKEND": settings.CACHES["default"]["BACKEND"]}
        )
    )
