"""A minimal Django project's settings, configured from the environment the stack exports, as an app would."""

import json
import os

from appcdn_django.settings import configure

SECRET_KEY = "tests-only"
USE_TZ = True
INSTALLED_APPS: list[str] = []
DATABASES = {"default": json.loads(os.environ["TEST_DATABASE"])} if "TEST_DATABASE" in os.environ else {}

configure(globals())
