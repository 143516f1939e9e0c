"""Inside the app: Django media settings from what the stack exports (``sites.<name>.django``), with the
standard library only, so a settings module can import it without Pulumi or a provider SDK::

    from appcdn.django_media import configure_media
    configure_media(globals())   # STORAGES["default"], MEDIA_URL, APPCDN_MEDIA_HEADERS, ...

The export arrives as JSON in ``APPCDN_MEDIA_SETTINGS`` (``pulumi stack output sites --json`` → the site's
``django``), or in a file named by ``APPCDN_MEDIA_SETTINGS_FILE``. The default storage then applies the ordered
header rules at upload (``appcdn.django_storages``): new uploads get the right headers without any refresh.
Credentials and endpoints stay in the standard environment (AWS_* for boto3; AZURE_STORAGE_CONNECTION_STRING or
AZURE_STORAGE_KEY for Azure).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, MutableMapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from appcdn.globs import glob_matches

MEDIA_SETTINGS_VERSION = "1"
"""Version of the exported media contract (``APPCDN_MEDIA_VERSION``) this module reads."""
S3_STORAGE = "appcdn.django_storages.S3MediaStorage"
AZURE_STORAGE = "appcdn.django_storages.AzureMediaStorage"
PRIVATE_URL_SECONDS = 3600
"""How long the signed URL of a private object stays valid (public objects have plain, stable URLs)."""
S3_PARAMETERS = {"Cache-Control": "CacheControl", "Content-Disposition": "ContentDisposition",
                 "Content-Language": "ContentLanguage"}
AZURE_PARAMETERS = {"Cache-Control": "cache_control", "Content-Disposition": "content_disposition",
                    "Content-Language": "content_language"}


class MediaSettingsError(RuntimeError):
    """The exported media settings cannot be used."""


def headers_for(rules: Sequence[Mapping[str, Any]], name: str) -> dict[str, str]:
    """HTTP headers of the first rule (``{"match", "headers"}``) matching an object name; {} when none does."""
    rule = next((r for r in rules if glob_matches(r["match"], name)), None)
    return dict(rule["headers"]) if rule is not None else {}


def upload_parameters(headers: Mapping[str, str], names: Mapping[str, str]) -> dict[str, str]:
    """Headers as a storage SDK's parameter names (``S3_PARAMETERS`` or ``AZURE_PARAMETERS``)."""
    return {names[h]: v for h, v in headers.items() if h in names}


def load_export(env: Mapping[str, str] = os.environ) -> dict[str, Any] | None:
    """The site's exported ``django`` settings, from the environment; None when neither variable is set."""
    raw = env.get("APPCDN_MEDIA_SETTINGS")
    if not raw and env.get("APPCDN_MEDIA_SETTINGS_FILE"):
        raw = Path(env["APPCDN_MEDIA_SETTINGS_FILE"]).read_text()
    if not raw:
        return None
    exported: dict[str, Any] = json.loads(raw)
    version = exported.get("APPCDN_MEDIA_VERSION")
    if version != MEDIA_SETTINGS_VERSION:
        raise MediaSettingsError(f"the stack exports media settings version {version}; this module reads "
                                 f"{MEDIA_SETTINGS_VERSION}: upgrade appcdn in the app (or the stack)")
    return exported


def _host(url: str | None) -> str | None:
    return urlsplit(url).netloc or None if url else None


def default_storage(exported: Mapping[str, Any], env: Mapping[str, str] = os.environ) -> dict[str, Any]:
    """``STORAGES["default"]`` for the exported backend."""
    rules = list(exported.get("APPCDN_MEDIA_HEADERS", []))
    if exported["APPCDN_MEDIA_BACKEND"] == "aws":
        options: dict[str, Any] = {
            "bucket_name": exported["AWS_STORAGE_BUCKET_NAME"], "region_name": exported.get("AWS_S3_REGION_NAME"),
            "object_parameters": dict(exported.get("AWS_S3_OBJECT_PARAMETERS", {})), "header_rules": rules,
            "public_prefixes": list(exported.get("APPCDN_MEDIA_PUBLIC_PREFIXES", [])),
            "public_url": exported.get("MEDIA_URL"), "querystring_expire": PRIVATE_URL_SECONDS,
            "file_overwrite": False}
        return {"BACKEND": S3_STORAGE, "OPTIONS": options}
    options = {"account_name": exported["AZURE_ACCOUNT_NAME"], "azure_container": exported["AZURE_CONTAINER"],
               "public_container": exported.get("APPCDN_AZURE_PUBLIC_CONTAINER"),
               "public_prefixes": list(exported.get("APPCDN_MEDIA_PUBLIC_PREFIXES", [])),
               "cache_control": exported.get("AZURE_CACHE_CONTROL"), "header_rules": rules,
               "public_domain": _host(exported.get("MEDIA_URL")), "expiration_secs": PRIVATE_URL_SECONDS,
               "overwrite_files": False}
    if env.get("AZURE_STORAGE_CONNECTION_STRING"):
        options["connection_string"] = env["AZURE_STORAGE_CONNECTION_STRING"]
    elif env.get("AZURE_STORAGE_KEY"):
        options["account_key"] = env["AZURE_STORAGE_KEY"]
    return {"BACKEND": AZURE_STORAGE, "OPTIONS": options}


def configure_media(settings: MutableMapping[str, Any], env: Mapping[str, str] = os.environ) -> bool:
    """Set the default storage, ``MEDIA_URL`` and ``APPCDN_MEDIA_HEADERS`` from the export; whether one was
    found (without it, local development keeps Django's file storage)."""
    exported = load_export(env)
    if exported is None:
        return False
    storages = dict(settings.get("STORAGES") or {
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}})
    storages["default"] = default_storage(exported, env)
    settings["STORAGES"] = storages
    settings["APPCDN_MEDIA_HEADERS"] = list(exported.get("APPCDN_MEDIA_HEADERS", []))
    if exported.get("MEDIA_URL"):
        settings["MEDIA_URL"] = exported["MEDIA_URL"]
    return True
