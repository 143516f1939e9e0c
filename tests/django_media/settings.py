"""A minimal Django project's settings whose media storage comes only from the stack's export
(``APPCDN_MEDIA_SETTINGS``) and the standard environment, as an app would configure it."""

from appcdn_django.settings import configure

SECRET_KEY = "tests-only"
USE_TZ = True
INSTALLED_APPS: list[str] = []

configure(globals())
