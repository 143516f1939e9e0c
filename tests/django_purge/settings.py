"""A Django project whose media storage and purge on change come only from the stack's exports, on PostgreSQL,
as an app would configure them (the three lines of the README)."""

import json
import os

from appcdn_django.settings import configure

SECRET_KEY = "tests-only"
USE_TZ = True
INSTALLED_APPS = ["appcdn_django"]
DATABASES = {"default": json.loads(os.environ["TEST_DATABASE"])}
configure(globals())
APPCDN_PURGE_MAX_WAIT = float(os.environ.get("TEST_PURGE_MAX_WAIT", "10"))
