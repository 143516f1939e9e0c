"""Azure Blob: change a blob's headers with Set Blob Properties, carrying over every content setting.

Set Blob Properties replaces *all* content settings (type, encoding, language, disposition, MD5, cache
control) with the ones sent, and the container listing already returns them: so no blob is read one by
one, and each write sends back what the listing said, with the declared headers in place. The write is
conditional on the listed ETag: a blob replaced meanwhile is not overwritten with stale settings (it is read
again, once). Metadata, tags, tier and bytes are not touched by this call.

A write whose answer is lost (a reset, a timeout) is sent again by the SDK and then meets 412, because the
first one changed the ETag: such a blob is read again, found right, and still counts as changed, so the purge
covers it. Every blob this run wrote, or tried to write, counts as changed.
https://learn.microsoft.com/rest/api/storageservices/set-blob-properties
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

from azure.core import MatchConditions
from azure.core.exceptions import ResourceModifiedError
from azure.storage.blob import BlobProperties, ContainerClient, ContentSettings

from appcdn.runtime.header_rules import Declared, Stored, is_satisfied
from appcdn.runtime.s3_objects import URL_SAFE


def stored(settings: ContentSettings) -> Stored:
    return Stored(settings.cache_control, settings.content_disposition, settings.content_language)


def declared_settings(current: ContentSettings, declared: Declared) -> ContentSettings:
    """``current`` with the declared headers in place; every other content setting as it was."""
    return ContentSettings(
        content_type=current.content_type,
        content_encoding=current.content_encoding,
        content_language=declared.content_language
        if declared.content_language is not None
        else current.content_language,
        content_disposition=declared.content_disposition
        if declared.content_disposition is not None
        else current.content_disposition,
        cache_control=declared.cache_control,
        content_md5=current.content_md5,
    )


def served_prefixes(container: str, key_prefix: str) -> list[str]:
    """The URL path prefix covering every blob of a served ``container`` whose name starts with ``key_prefix``."""
    return [f"/{container}/" + quote(key_prefix, safe=URL_SAFE)]


class AzureContainer:
    """One container as a store for the reconcile engine; ``served``: its blobs are public on the media domain."""

    def __init__(self, container: ContainerClient, served: bool = False):
        self.container, self.served = container, served
        self.name: str = container.container_name
        self.label = f"{container.account_name}/{self.name}"

    def listing(self) -> Iterator[BlobProperties]:
        return iter(self.container.list_blobs())

    def key(self, item: BlobProperties) -> str:
        name: str = item.name
        return name

    def served_path(self, key: str) -> str | None:
        return f"/{self.name}/" + quote(key, safe=URL_SAFE) if self.served else None

    def served_prefixes(self, key_prefix: str) -> list[str]:
        return served_prefixes(self.name, key_prefix) if self.served else []

    def reconcile(self, item: BlobProperties, declared: Declared, dry_run: bool) -> bool:
        """Conditional on the ETag listed: a blob replaced since the listing (or by our own write, whose answer
        was lost) is read again, once, rather than given the old blob's content settings; it counts as changed."""
        try:
            return self._reconcile(item, declared, dry_run)
        except ResourceModifiedError:
            blob: Any = self.container.get_blob_client(item.name)
            self._reconcile(blob.get_blob_properties(), declared, dry_run)
            return True

    def _reconcile(self, item: BlobProperties, declared: Declared, dry_run: bool) -> bool:
        current: ContentSettings = item.content_settings
        if is_satisfied(declared, stored(current)):
            return False
        if not dry_run:
            blob: Any = self.container.get_blob_client(item.name)
            blob.set_http_headers(
                content_settings=declared_settings(current, declared),
                etag=item.etag,
                match_condition=MatchConditions.IfNotModified,
            )
        return True
