"""The Django app ``appcdn_django``: the record of pending purges, ``manage.py appcdn_purge``, and purge on
change for django CMS pages and django-filer files when those apps are installed (``appcdn_django.cms``)."""

from django.apps import AppConfig, apps
from django.db.models.signals import pre_save


class AppcdnConfig(AppConfig):  # type: ignore[misc]
    name = "appcdn_django"
    label = "appcdn_django"
    verbose_name = "appcdn"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from appcdn_django import cms

        if apps.is_installed("djangocms_versioning"):
            from djangocms_versioning.signals import post_version_operation, pre_version_operation

            pre_version_operation.connect(cms.version_changing, dispatch_uid="appcdn-purge-versioning")
            post_version_operation.connect(cms.version_changed, dispatch_uid="appcdn-purge-version")
        if apps.is_installed("cms"):
            from cms.signals import post_obj_operation, pre_obj_operation

            pre_obj_operation.connect(cms.page_moving, dispatch_uid="appcdn-purge-moving")
            post_obj_operation.connect(cms.page_moved, dispatch_uid="appcdn-purge-moved")
        if apps.is_installed("filer"):
            pre_save.connect(cms.filer_file_saving, dispatch_uid="appcdn-purge-filer")
