"""django-storages backends that apply the site's ordered header rules (first match wins) at upload.

- ``S3MediaStorage``: ``get_object_parameters`` adds the matching rule's headers over
  ``AWS_S3_OBJECT_PARAMETERS`` (django-storages' one value for every object). The URL of a public object is
  the media URL and its path, unsigned and stable (the edge caches by URL); any other object's URL is signed
  and expires (the bucket is private).
- ``AzureMediaStorage``: the same through the content settings of each upload; names under the public
  prefixes go to the public container (Azure's anonymous read is per container), everything else to the
  private one, each a plain ``AzureStorage`` underneath; URLs to the private container carry a SAS that
  expires.

Both purge a public object's URL and its thumbnails' (``appcdn_django.purge``) once the transaction commits,
when the object is deleted or saved over.

Configured by ``appcdn_django.media.configure_media`` from the stack's export; ``header_rules`` default to the
``APPCDN_MEDIA_HEADERS`` setting.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django.core.files.storage import Storage
from django.utils.deconstruct import deconstructible
from django.utils.encoding import filepath_to_uri
from storages.backends.azure_storage import AzureStorage
from storages.backends.s3 import S3Storage
from storages.utils import clean_name, setting

from appcdn_django import purge
from appcdn_django.media import AZURE_PARAMETERS, S3_PARAMETERS, headers_for, upload_parameters


@deconstructible
class S3MediaStorage(S3Storage):  # type: ignore[misc]
    def get_default_settings(self) -> dict[str, Any]:
        settings: dict[str, Any] = super().get_default_settings()
        return {
            **settings,
            "header_rules": setting("APPCDN_MEDIA_HEADERS", []),
            "public_prefixes": setting("APPCDN_MEDIA_PUBLIC_PREFIXES", []),
            "public_url": setting("MEDIA_URL"),
        }

    def get_object_parameters(self, name: str) -> dict[str, Any]:
        params: dict[str, Any] = super().get_object_parameters(name)
        return {**params, **upload_parameters(headers_for(self.header_rules, name), S3_PARAMETERS)}

    def url(
        self,
        name: str,
        parameters: dict[str, Any] | None = None,
        expire: int | None = None,
        http_method: str | None = None,
    ) -> str:
        if self._is_public(name) and not parameters:
            return f"{self.public_url.rstrip('/')}/{filepath_to_uri(clean_name(name))}"
        signed: str = super().url(name, parameters, expire, http_method)
        return signed

    def _save(self, name: str, content: Any) -> str:
        replaced = self._is_public(name) and purge.enabled() and self.exists(name)
        saved: str = super()._save(name, content)
        if replaced:
            purge.stored_file_changed(self.url(saved), saved)
        return saved

    def delete(self, name: str) -> None:
        super().delete(name)
        if self._is_public(name):
            purge.stored_file_changed(self.url(name), name)

    def _is_public(self, name: str) -> bool:
        return bool(self.public_url) and clean_name(name).startswith(tuple(self.public_prefixes))


class _AzureRuleStorage(AzureStorage):  # type: ignore[misc]
    def __init__(self, header_rules: list[dict[str, Any]], **options: Any):
        super().__init__(**options)
        self.header_rules = header_rules

    def get_object_parameters(self, name: str) -> dict[str, Any]:
        params: dict[str, Any] = super().get_object_parameters(name)
        return {**params, **upload_parameters(headers_for(self.header_rules, name), AZURE_PARAMETERS)}

    def listdir(self, path: str = "") -> tuple[list[str], list[str]]:
        """Django's contract: the folders and files directly under ``path``, by their names there.
        django-storages' Azure backend lists every blob below ``path`` by its full name instead; Azure's
        hierarchical listing (a ``/`` delimiter) gives what Django expects."""
        prefix = self._get_valid_path(path).rstrip("/") + "/" if path else ""
        dirs, files = [], []
        for item in self.client.walk_blobs(name_starts_with=prefix, delimiter="/"):
            relative: str = item.name[len(prefix) :]
            if relative.endswith("/"):
                dirs.append(relative.rstrip("/"))
            else:
                files.append(relative)
        return dirs, files


def _host(url: str | None) -> str | None:
    return urlsplit(url).netloc or None if url else None


@deconstructible
class AzureMediaStorage(Storage):  # type: ignore[misc]
    """The private container, and the public one for names under the public prefixes."""

    def __init__(
        self,
        *,
        public_container: str | None = None,
        public_prefixes: list[str] | None = None,
        header_rules: list[dict[str, Any]] | None = None,
        public_domain: str | None = None,
        **options: Any,
    ):
        """Every argument defaults to its setting (``configure_media`` sets them): an instance made without
        options, as django-filer makes them, is the default storage."""
        rules = header_rules if header_rules is not None else setting("APPCDN_MEDIA_HEADERS", [])
        public_container = public_container or setting("APPCDN_AZURE_PUBLIC_CONTAINER")
        public_domain = public_domain or _host(setting("MEDIA_URL"))
        self.public_prefixes = tuple(
            public_prefixes if public_prefixes is not None else setting("APPCDN_MEDIA_PUBLIC_PREFIXES", [])
        )
        self.private = _AzureRuleStorage(rules, **options)
        public_options = {**options, "expiration_secs": None}  # anyone may read it: plain, stable URLs
        self.public = (
            _AzureRuleStorage(rules, azure_container=public_container, custom_domain=public_domain, **public_options)
            if public_container
            else self.private
        )

    def _for(self, name: str) -> _AzureRuleStorage:
        return self.public if name.startswith(self.public_prefixes) else self.private

    def _open(self, name: str, mode: str = "rb") -> Any:
        return self._for(name)._open(name, mode)

    def _save(self, name: str, content: Any) -> str:
        storage = self._for(name)
        replaced = storage is self.public is not self.private and purge.enabled() and storage.exists(name)
        saved: str = storage._save(name, content)
        if replaced:
            purge.stored_file_changed(storage.url(saved), saved)
        return saved

    def delete(self, name: str) -> None:
        storage = self._for(name)
        storage.delete(name)
        if storage is self.public is not self.private:
            purge.stored_file_changed(storage.url(name), name)

    def exists(self, name: str) -> bool:
        return bool(self._for(name).exists(name))

    def size(self, name: str) -> int:
        return int(self._for(name).size(name))

    def url(self, name: str) -> str:
        url: str = self._for(name).url(name)
        return url

    def get_modified_time(self, name: str) -> Any:
        return self._for(name).get_modified_time(name)

    def listdir(self, path: str) -> tuple[list[str], list[str]]:
        storage = self._for(path.rstrip("/") + "/") if path else None
        if storage is not None:
            listed: tuple[list[str], list[str]] = storage.listdir(path)
            return listed
        dirs, files = self.private.listdir(path)
        if self.public is not self.private:
            more_dirs, more_files = self.public.listdir(path)
            dirs, files = sorted(set(dirs) | set(more_dirs)), sorted(set(files) | set(more_files))
        return dirs, files
