"""Inside the app: Django media settings from what the stack exports (``sites.<name>.django``), with the
standard library only, so a settings module can import it without Pulumi or a provider SDK::

    from appcdn_django.media import configure_media
    configure_media(globals())   # STORAGES["default"], MEDIA_URL and the storage's settings

The export arrives as JSON in ``APPCDN_MEDIA_SETTINGS`` (``pulumi stack output sites --json`` → the site's
``django``), or in a file named by ``APPCDN_MEDIA_SETTINGS_FILE``. The default storage then applies the ordered
header rules at upload (``appcdn_django.storages``): new uploads get the right headers without any refresh.
Credentials and endpoints stay in the standard environment (AWS_* for boto3; AZURE_STORAGE_CONNECTION_STRING or
AZURE_STORAGE_KEY for Azure).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, MutableMapping, Sequence
from pathlib import Path
from typing import Any

from appcdn_django.contracts import MEDIA_SETTINGS
from appcdn_django.globs import glob_matches

S3_STORAGE = "appcdn_django.storages.S3MediaStorage"
AZURE_STORAGE = "appcdn_django.storages.AzureMediaStorage"
PRIVATE_URL_SECONDS = 3600
"""How long the signed URL of a private object stays valid (public objects have plain, stable URLs)."""
S3_PARAMETERS = {
    "Cache-Control": "CacheControl",
    "Content-Disposition": "ContentDisposition",
    "Content-Language": "ContentLanguage",
}
AZURE_PARAMETERS = {
    "Cache-Control": "cache_control",
    "Content-Disposition": "content_disposition",
    "Content-Language": "content_language",
}


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
    raw, source = env.get("APPCDN_MEDIA_SETTINGS"), "APPCDN_MEDIA_SETTINGS"
    if not raw and env.get("APPCDN_MEDIA_SETTINGS_FILE"):
        source = env["APPCDN_MEDIA_SETTINGS_FILE"]
        try:
            raw = Path(source).read_text()
        except OSError as error:
            raise MediaSettingsError(f"APPCDN_MEDIA_SETTINGS_FILE: {error}") from None
    if not raw:
        return None
    try:
        exported: dict[str, Any] = json.loads(raw)
    except ValueError as error:
        raise MediaSettingsError(f"{source}: not the JSON of the stack output sites.<name>.django ({error})") from None
    if not isinstance(exported, dict):
        raise MediaSettingsError(f"{source}: not the JSON of the stack output sites.<name>.django")
    refusal = MEDIA_SETTINGS.refusal(exported)
    if refusal:
        raise MediaSettingsError(refusal)
    return exported


def storage_settings(exported: Mapping[str, Any], env: Mapping[str, str] = os.environ) -> dict[str, Any]:
    """The Django settings the storage reads, under django-storages' own names (and ``APPCDN_*`` for what it
    has no name for). In settings rather than in ``STORAGES`` options, because apps such as django-filer make
    their own instances of the default storage's class without options."""
    common = {
        "APPCDN_MEDIA_HEADERS": list(exported.get("APPCDN_MEDIA_HEADERS", [])),
        "APPCDN_MEDIA_PUBLIC_PREFIXES": list(exported.get("APPCDN_MEDIA_PUBLIC_PREFIXES", [])),
    }
    if exported["APPCDN_MEDIA_BACKEND"] == "aws":
        return {
            **common,
            "AWS_STORAGE_BUCKET_NAME": exported["AWS_STORAGE_BUCKET_NAME"],
            "AWS_S3_REGION_NAME": exported.get("AWS_S3_REGION_NAME"),
            "AWS_S3_OBJECT_PARAMETERS": dict(exported.get("AWS_S3_OBJECT_PARAMETERS", {})),
            "AWS_S3_FILE_OVERWRITE": False,
            "AWS_QUERYSTRING_EXPIRE": PRIVATE_URL_SECONDS,
        }
    settings = {
        **common,
        "AZURE_ACCOUNT_NAME": exported["AZURE_ACCOUNT_NAME"],
        "AZURE_CONTAINER": exported["AZURE_CONTAINER"],
        "APPCDN_AZURE_PUBLIC_CONTAINER": exported.get("APPCDN_AZURE_PUBLIC_CONTAINER"),
        "AZURE_CACHE_CONTROL": exported.get("AZURE_CACHE_CONTROL"),
        "AZURE_URL_EXPIRATION_SECS": PRIVATE_URL_SECONDS,
        "AZURE_OVERWRITE_FILES": False,
    }
    if env.get("AZURE_STORAGE_CONNECTION_STRING"):
        settings["AZURE_CONNECTION_STRING"] = env["AZURE_STORAGE_CONNECTION_STRING"]
    elif env.get("AZURE_STORAGE_KEY"):
        settings["AZURE_ACCOUNT_KEY"] = env["AZURE_STORAGE_KEY"]
    return settings


def configure_media(settings: MutableMapping[str, Any], env: Mapping[str, str] = os.environ) -> bool:
    """Set the default storage, ``MEDIA_URL`` and the storage's settings from the export; whether one was
    found (without it, local development keeps Django's file storage)."""
    exported = load_export(env)
    if exported is None:
        return False
    storages = dict(
        settings.get("STORAGES")
        or {"staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
    )
    storages["default"] = {"BACKEND": S3_STORAGE if exported.get("APPCDN_MEDIA_BACKEND") == "aws" else AZURE_STORAGE}
    settings["STORAGES"] = storages
    try:
        settings.update(storage_settings(exported, env))
    except KeyError as error:
        raise MediaSettingsError(
            f"the exported media settings lack {error}: export them again with this appcdn version"
        ) from None
    if exported.get("MEDIA_URL"):
        settings["MEDIA_URL"] = exported["MEDIA_URL"]
    return True
