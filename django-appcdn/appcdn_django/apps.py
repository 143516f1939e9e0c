"""The Django app ``appcdn_django``: the record of pending purges and ``manage.py appcdn_purge``."""

from django.apps import AppConfig


class AppcdnConfig(AppConfig):  # type: ignore[misc]
    name = "appcdn_django"
    label = "appcdn_django"
    verbose_name = "appcdn"
    default_auto_field = "django.db.models.BigAutoField"
