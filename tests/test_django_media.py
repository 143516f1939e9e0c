"""The app side: a Django app configured only from the stack's exported settings uploads through
django-storages, and each object carries its first-matching header rule's headers from the start.

The export is what the program itself exports (``sites.<name>.django``, run under the mock engine); the uploads
run in a separate Django process against moto's S3 server and Azurite."""

from __future__ import annotations

import json
import posixpath
import subprocess
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import boto3
import pytest
from azure.storage.blob import BlobServiceClient

from appcdn.program.stack_program import declare as declare_program
from appcdn.rules.rulesets import compile_zones
from appcdn_django.media import (
    AZURE_PARAMETERS,
    S3_PARAMETERS,
    MediaSettingsError,
    configure_media,
    headers_for,
    upload_parameters,
)
from tests.app_venv import app_process_env
from tests.conftest import ROOT, declare, project_of, raw_config
from tests.emulators import create_declared_containers, declared_media

ONE_YEAR = "public, max-age=31536000"
ONE_HOUR = "public, max-age=3600"
THUMBNAIL = "filer_public_thumbnails/filer_public/2026/07/a.jpg__400x300_q85_crop.jpg"
DOCUMENT = "documents/b.pdf"


def exported_django_settings(media: dict[str, Any]) -> dict[str, Any]:
    """The stack output ``sites.shop.django`` that the program declares for ``media``."""
    project = project_of(raw_config(media=media))
    captured: dict[str, Any] = {}

    def program() -> None:
        outputs = declare_program(project, compile_zones(project))
        outputs["sites"]["shop"]["django"].apply(captured.update)

    declare(program)
    return captured


def django_storage(
    python: Path, export: dict[str, Any], env: dict[str, str], command: str, *names: str
) -> dict[str, Any]:
    """``tests/django_media/upload.py`` in a Django process of the app's virtualenv (django-appcdn from its
    wheel, no Pulumi), configured only from ``export`` and ``env``."""
    result = subprocess.run(
        [str(python), str(ROOT / "tests" / "django_media" / "upload.py"), command, *names],
        capture_output=True,
        text=True,
        env=app_process_env(
            python, "tests.django_media.settings", {**env, "APPCDN_MEDIA_SETTINGS": json.dumps(export)}
        ),
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    answered: dict[str, Any] = json.loads(result.stdout)
    return answered


def fetched(url: str) -> str:
    """An object's content over plain HTTP, as a browser would get it from the URL the app wrote."""
    with urllib.request.urlopen(url, timeout=30) as response:
        content: str = response.read().decode()
    return content


def upload(python: Path, export: dict[str, Any], env: dict[str, str], *names: str) -> dict[str, dict[str, Any]]:
    """Save ``names``; each reads back as written, with its size, in its folder's listing. By name saved:
    what the storage answered (``url``, ...)."""
    files = django_storage(python, export, env, "save", *names)
    for name, answer in files.items():
        content = f"content of {name}"
        assert (answer["content"], answer["size"], answer["exists"]) == (content, len(content), True)
        assert posixpath.basename(name) in answer["listed"]
        assert name.split("/", 1)[0] in answer["top_folders"]
        assert answer["modified"]
    return files


def test_uploads_to_s3_carry_the_one_year_and_the_default_headers(app_python: Path, s3_endpoint: str) -> None:
    bucket = f"media-{uuid.uuid4().hex[:12]}"
    s3 = boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    s3.create_bucket(Bucket=bucket)
    export = exported_django_settings(
        {
            "backend": "aws",
            "aws": {"region": "us-east-1", "bucket_name": bucket},
            "domain": {"host": "media.example.com"},
        }
    )
    assert (export["APPCDN_MEDIA_VERSION"], export["APPCDN_READER"]) == ("1", "django-appcdn>=0.1.0")
    assert export["AWS_STORAGE_BUCKET_NAME"] == bucket
    env = {"AWS_ENDPOINT_URL_S3": s3_endpoint, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
    saved = upload(app_python, export, env, THUMBNAIL, DOCUMENT)
    assert list(saved) == [THUMBNAIL, DOCUMENT]
    thumbnail, document = (s3.head_object(Bucket=bucket, Key=key) for key in saved)
    assert (thumbnail["CacheControl"], thumbnail["ContentType"]) == (ONE_YEAR, "image/jpeg")
    assert (document["CacheControl"], document["ContentType"]) == (ONE_HOUR, "application/pdf")
    # a public object's URL is on the media domain, plain and stable (the edge caches by URL) ...
    assert saved[THUMBNAIL]["url"] == f"https://media.example.com/{THUMBNAIL}"
    # ... a private one is signed, expires, and works
    assert "Signature=" in saved[DOCUMENT]["url"] and "Expires=" in saved[DOCUMENT]["url"]
    assert fetched(saved[DOCUMENT]["url"]) == f"content of {DOCUMENT}"
    assert django_storage(app_python, export, env, "delete", *saved) == dict.fromkeys(saved, True)


def test_uploads_to_azure_carry_the_headers_and_land_in_the_public_or_private_container(
    app_python: Path, azurite_blob: str
) -> None:
    service = BlobServiceClient.from_connection_string(azurite_blob)
    media = {"backend": "azure", "azure": {"account_name": "devstoreaccount1"}}
    existing = {c.name for c in service.list_containers()}
    created = [c for c in create_declared_containers(service, declared_media(media)) if c not in existing]
    try:
        export = exported_django_settings(media)
        env = {"AZURE_STORAGE_CONNECTION_STRING": azurite_blob}
        saved = upload(app_python, export, env, THUMBNAIL, DOCUMENT)
        thumbnail = service.get_blob_client("public", THUMBNAIL).get_blob_properties().content_settings
        document = service.get_blob_client("private", DOCUMENT).get_blob_properties().content_settings
        assert (thumbnail.cache_control, thumbnail.content_type) == (ONE_YEAR, "image/jpeg")
        assert (document.cache_control, document.content_type) == (ONE_HOUR, "application/pdf")
        assert not service.get_blob_client("private", THUMBNAIL).exists()  # public media only where it is public
        # public: a plain URL into the public container; private: a SAS URL that expires, and works
        assert saved[THUMBNAIL]["url"].endswith(f"/public/{THUMBNAIL}") and "sig=" not in saved[THUMBNAIL]["url"]
        assert "/private/documents/b.pdf?" in saved[DOCUMENT]["url"] and "sig=" in saved[DOCUMENT]["url"]
        assert fetched(saved[DOCUMENT]["url"]) == f"content of {DOCUMENT}"
        assert django_storage(app_python, export, env, "delete", *saved) == dict.fromkeys(saved, True)
        assert not service.get_blob_client("public", THUMBNAIL).exists()
    finally:  # the Azurite server is shared by the session: test_media_emulators declares these containers itself
        for container in created:
            service.delete_container(container)


RULES = [
    {"match": "downloads/*", "headers": {"Cache-Control": "private", "Content-Disposition": "attachment"}},
    {"match": "*", "headers": {"Cache-Control": ONE_HOUR}},
]


def test_the_first_matching_rule_gives_the_upload_parameters_of_each_sdk() -> None:
    assert upload_parameters(headers_for(RULES, "downloads/x.zip"), S3_PARAMETERS) == {
        "CacheControl": "private",
        "ContentDisposition": "attachment",
    }
    assert upload_parameters(headers_for(RULES, "a.jpg"), AZURE_PARAMETERS) == {"cache_control": ONE_HOUR}
    assert headers_for(RULES[:1], "a.jpg") == {}


def test_without_an_export_local_development_keeps_django_s_storage() -> None:
    settings: dict[str, Any] = {}
    assert not configure_media(settings, {}) and settings == {}


def test_an_export_of_another_version_is_refused_at_start_up(tmp_path: Path) -> None:
    path = tmp_path / "media.json"
    path.write_text(json.dumps({"APPCDN_MEDIA_VERSION": "2"}))
    with pytest.raises(
        MediaSettingsError,
        match=r"version 2 \(read by another django-appcdn release\); this is django-appcdn 0\.1\.0, which reads "
        "version 1",
    ):
        configure_media({}, {"APPCDN_MEDIA_SETTINGS_FILE": str(path)})


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"APPCDN_MEDIA_SETTINGS": "{not json"}, "APPCDN_MEDIA_SETTINGS: not the JSON of the stack output"),
        ({"APPCDN_MEDIA_SETTINGS_FILE": "/nonexistent/media.json"}, "APPCDN_MEDIA_SETTINGS_FILE: "),
        (
            {"APPCDN_MEDIA_SETTINGS": json.dumps({"APPCDN_MEDIA_VERSION": "1", "APPCDN_MEDIA_BACKEND": "aws"})},
            "lack 'AWS_STORAGE_BUCKET_NAME'",
        ),
    ],
)
def test_a_broken_export_is_one_clear_error_at_start_up(env: dict[str, str], message: str) -> None:
    with pytest.raises(MediaSettingsError, match=message):
        configure_media({}, env)


def test_the_export_becomes_the_default_storage_media_url_and_the_storage_s_settings() -> None:
    export = exported_django_settings(
        {"backend": "azure", "azure": {"account_name": "shopmedia"}, "domain": {"host": "media.example.com"}}
    )
    settings: dict[str, Any] = {}
    assert configure_media(settings, {"APPCDN_MEDIA_SETTINGS": json.dumps(export), "AZURE_STORAGE_KEY": "k"})
    assert settings["MEDIA_URL"] == "https://media.example.com/public/"
    # no options: django-filer makes its own instances of the default storage's class, from settings alone
    assert settings["STORAGES"]["default"] == {"BACKEND": "appcdn_django.storages.AzureMediaStorage"}
    assert {k: v for k, v in settings.items() if k not in ("STORAGES", "MEDIA_URL")} == {
        "AZURE_ACCOUNT_NAME": "shopmedia",
        "AZURE_CONTAINER": "private",
        "APPCDN_AZURE_PUBLIC_CONTAINER": "public",
        "APPCDN_MEDIA_PUBLIC_PREFIXES": ["filer_public/", "filer_public_thumbnails/"],
        "AZURE_CACHE_CONTROL": ONE_HOUR,
        "APPCDN_MEDIA_HEADERS": export["APPCDN_MEDIA_HEADERS"],
        "AZURE_URL_EXPIRATION_SECS": 3600,
        "AZURE_OVERWRITE_FILES": False,
        "AZURE_ACCOUNT_KEY": "k",
    }
    assert "staticfiles" in settings["STORAGES"]
