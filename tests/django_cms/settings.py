"""A django CMS 5 site with djangocms-versioning and django-filer on PostgreSQL, media on S3, configured from the
stack's exports as an app would (the README's three lines), purge on change on."""

import json
import os
from pathlib import Path

from appcdn_django.settings import configure

SECRET_KEY = "tests-only"
USE_TZ = True
SITE_ID = 1
ALLOWED_HOSTS = ["testserver"]  # django.test.Client's host
ROOT_URLCONF = "tests.django_cms.urls"
DATABASES = {"default": json.loads(os.environ["TEST_DATABASE"])}
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("de", "Deutsch")]
CMS_CONFIRM_VERSION4 = True
CMS_TEMPLATES = [("page.html", "Page")]
STATIC_URL = "/static/"
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.sites",
    "django.contrib.staticfiles",
    "cms",
    "menus",
    "treebeard",
    "sekizai",
    "djangocms_versioning",
    "filer",
    "easy_thumbnails",
    "appcdn_django",
]
MIDDLEWARE = [
    "appcdn_django.cms.CacheTagMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "cms.middleware.user.CurrentUserMiddleware",
    "cms.middleware.page.CurrentPageMiddleware",
    "cms.middleware.toolbar.ToolbarMiddleware",
    "cms.middleware.language.LanguageCookieMiddleware",
]
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [Path(__file__).parent / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "sekizai.context_processors.sekizai",
                "cms.context_processors.cms_settings",
            ]
        },
    }
]
THUMBNAIL_PROCESSORS = (
    "easy_thumbnails.processors.colorspace",
    "easy_thumbnails.processors.autocrop",
    "filer.thumbnail_processors.scale_and_crop_with_subject_location",
    "easy_thumbnails.processors.filters",
)
configure(globals())
