"""S3: change an object's headers by copying it onto itself with its metadata replaced.

``CopyObject`` with ``MetadataDirective=REPLACE`` replaces *all* system and user metadata, so everything
that must stay is read from one ``HeadObject`` and sent back: Content-Type, -Encoding, -Language,
-Disposition (unless the rule declares them), Expires, user metadata, storage class, encryption, website
redirect, object lock. Tags stay (``TaggingDirective=COPY``). Where ACLs are in use (the bucket is not
``BucketOwnerEnforced``) the object's grants are sent with the copy, so the new object never exists
without them. The copy is conditional on the ETag read (``CopySourceIfMatch``): an object replaced meanwhile
is read again, never overwritten with stale metadata. Each copy is atomic: an interrupted run leaves every
object old or new. Objects above ``multipart_threshold`` (``CopyObject``'s 5 GB limit by default) are copied
with ``UploadPartCopy`` in byte ranges, keeping the object's checksum algorithm; their parts are invisible
until the upload completes, and it completes only over the object read (``IfMatch``).
https://docs.aws.amazon.com/AmazonS3/latest/API/API_CopyObject.html
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

from botocore.exceptions import ClientError

from appcdn.runtime.header_rules import Declared, Stored, is_satisfied

MiB = 1024**2
GiB = 1024**3
COPY_OBJECT_LIMIT = 5 * GiB
MIN_PART_SIZE = 5 * MiB
MAX_PART_SIZE = 5 * GiB
MAX_PARTS = 10_000
DEFAULT_PART_SIZE = 512 * MiB

CARRIED = (
    "ContentType",
    "ContentEncoding",
    "ContentLanguage",
    "ContentDisposition",
    "Expires",
    "WebsiteRedirectLocation",
    "StorageClass",
    "ServerSideEncryption",
    "SSEKMSKeyId",
    "BucketKeyEnabled",
    "ObjectLockMode",
    "ObjectLockRetainUntilDate",
    "ObjectLockLegalHoldStatus",
)
"""``HeadObject`` fields that ``CopyObject`` / ``CreateMultipartUpload`` take back under the same name."""
CHECKSUMS = ("CRC64NVME", "CRC32C", "CRC32", "SHA256", "SHA1")
"""Checksum algorithms an object may carry (``HeadObject`` with ``ChecksumMode``); a single ``CopyObject`` keeps
the source's, a multipart copy must ask for it (https://docs.aws.amazon.com/AmazonS3/latest/userguide/checking-object-integrity.html)."""
GRANT_PARAMS = {
    "FULL_CONTROL": "GrantFullControl",
    "READ": "GrantRead",
    "READ_ACP": "GrantReadACP",
    "WRITE_ACP": "GrantWriteACP",
}
RETRIED_CODES = ("PreconditionFailed", "NoSuchUpload")
"""A copy condition that no longer holds, or a completion retried after the upload was completed."""
URL_SAFE = "/~!*()'"
"""Characters Django's ``filepath_to_uri`` leaves as they are: object URLs are written the way the app writes them."""


def part_ranges(size: int, part_size: int) -> list[tuple[int, int]]:
    """Inclusive byte ranges covering ``size`` bytes in at most 10 000 parts of at least 5 MiB (but the last)."""
    part = min(max(part_size, MIN_PART_SIZE, math.ceil(size / MAX_PARTS)), MAX_PART_SIZE)
    return [(start, min(start + part, size) - 1) for start in range(0, size, part)]


def _grantee(grantee: dict[str, str]) -> str:
    kind = grantee["Type"]
    if kind == "CanonicalUser":
        return f'id="{grantee["ID"]}"'
    if kind == "Group":
        return f'uri="{grantee["URI"]}"'
    return f'emailAddress="{grantee["EmailAddress"]}"'


def grant_params(acl: dict[str, Any]) -> dict[str, str]:
    """An object's ACL (``GetObjectAcl``) as the ``Grant*`` parameters of a copy."""
    grants: dict[str, list[str]] = {}
    for grant in acl.get("Grants", []):
        param = GRANT_PARAMS.get(grant["Permission"])
        if param is not None:
            grants.setdefault(param, []).append(_grantee(grant["Grantee"]))
    return {param: ", ".join(values) for param, values in grants.items()}


def served_prefixes(public_prefixes: Sequence[str], key_prefix: str) -> list[str]:
    """URL path prefixes covering every publicly served key that starts with ``key_prefix``."""
    covering = {
        key_prefix if key_prefix.startswith(p) else p
        for p in public_prefixes
        if key_prefix.startswith(p) or p.startswith(key_prefix)
    }
    return sorted("/" + quote(prefix, safe=URL_SAFE) for prefix in covering)


@dataclass(frozen=True)
class S3Options:
    multipart_threshold: int = COPY_OBJECT_LIMIT
    """Objects larger than this are copied part by part (``UploadPartCopy``)."""
    part_size: int = DEFAULT_PART_SIZE
    """Preferred part size; raised to 5 MiB and to what keeps an object within 10 000 parts."""


class S3Bucket:
    """One bucket as a store for the reconcile engine."""

    def __init__(self, client: Any, bucket: str, public_prefixes: Sequence[str] = (), options: S3Options = S3Options()):
        self.client, self.bucket, self.options = client, bucket, options
        self.public_prefixes = tuple(public_prefixes)
        self.label = f"s3://{bucket}"
        self.acls_in_use = self._acls_in_use()

    def _acls_in_use(self) -> bool:
        """ACLs count unless the bucket enforces bucket-owner ownership (then they are disabled); a bucket without
        ownership controls uses them. Any other failure (denied, throttled, unreachable) is raised: guessing
        "ACLs" would make every copy read the object's ACL, which a least-privilege role may not do, and
        guessing "no ACLs" would drop grants."""
        try:
            rules = self.client.get_bucket_ownership_controls(Bucket=self.bucket)["OwnershipControls"]["Rules"]
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "OwnershipControlsNotFoundError":
                return True
            raise
        return not any(r.get("ObjectOwnership") == "BucketOwnerEnforced" for r in rules)

    def listing(self) -> Iterator[str]:
        for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket):
            for obj in page.get("Contents", []):
                yield obj["Key"]

    def key(self, item: str) -> str:
        return item

    def served_path(self, key: str) -> str | None:
        return "/" + quote(key, safe=URL_SAFE) if key.startswith(self.public_prefixes) else None

    def served_prefixes(self, key_prefix: str) -> list[str]:
        return served_prefixes(self.public_prefixes, key_prefix)

    def reconcile(self, item: str, declared: Declared, dry_run: bool) -> bool:
        """A copy refused because the object changed since the HEAD (replaced meanwhile, or completed by our own
        multipart upload whose answer was lost and whose retry then finds no upload) is read again, once, and
        counts as changed: this run wrote it or tried to, so the purge covers it."""
        try:
            return self._reconcile(item, declared, dry_run)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") not in RETRIED_CODES:
                raise
        self._reconcile(item, declared, dry_run)
        return True

    def _reconcile(self, key: str, declared: Declared, dry_run: bool) -> bool:
        head = self.client.head_object(Bucket=self.bucket, Key=key, ChecksumMode="ENABLED")
        stored = Stored(head.get("CacheControl"), head.get("ContentDisposition"), head.get("ContentLanguage"))
        if is_satisfied(declared, stored):
            return False
        if dry_run:
            return True
        params: dict[str, Any] = {name: head[name] for name in CARRIED if head.get(name) not in (None, "")}
        params["Metadata"] = head.get("Metadata", {})
        params["CacheControl"] = declared.cache_control
        if declared.content_disposition is not None:
            params["ContentDisposition"] = declared.content_disposition
        if declared.content_language is not None:
            params["ContentLanguage"] = declared.content_language
        if self.acls_in_use:
            params.update(grant_params(self.client.get_object_acl(Bucket=self.bucket, Key=key)))
        source = {"Bucket": self.bucket, "Key": key}
        if head["ContentLength"] > self.options.multipart_threshold:
            algorithm = next((a for a in CHECKSUMS if head.get(f"Checksum{a}")), None)
            self._multipart_copy(
                key,
                params | ({"ChecksumAlgorithm": algorithm} if algorithm else {}),
                head["ContentLength"],
                head["ETag"],
            )
        else:
            self.client.copy_object(
                Bucket=self.bucket,
                Key=key,
                CopySource=source,
                CopySourceIfMatch=head["ETag"],
                MetadataDirective="REPLACE",
                TaggingDirective="COPY",
                **params,
            )
        return True

    def _multipart_copy(self, key: str, params: dict[str, Any], size: int, etag: str) -> None:
        tags = self.client.get_object_tagging(Bucket=self.bucket, Key=key).get("TagSet", [])
        if tags:
            params = {**params, "Tagging": urlencode([(t["Key"], t["Value"]) for t in tags])}
        upload = self.client.create_multipart_upload(Bucket=self.bucket, Key=key, **params)["UploadId"]
        try:
            parts = []
            for number, (first, last) in enumerate(part_ranges(size, self.options.part_size), start=1):
                copied = self.client.upload_part_copy(
                    Bucket=self.bucket,
                    Key=key,
                    UploadId=upload,
                    PartNumber=number,
                    CopySource={"Bucket": self.bucket, "Key": key},
                    CopySourceRange=f"bytes={first}-{last}",
                    CopySourceIfMatch=etag,
                )
                result = copied["CopyPartResult"]
                parts.append(
                    {
                        "ETag": result["ETag"],
                        "PartNumber": number,
                        **{f"Checksum{a}": result[f"Checksum{a}"] for a in CHECKSUMS if f"Checksum{a}" in result},
                    }
                )
            # IfMatch: only over the object read; one replaced during the copy is left as it is (412)
            self.client.complete_multipart_upload(
                Bucket=self.bucket, Key=key, UploadId=upload, IfMatch=etag, MultipartUpload={"Parts": parts}
            )
        except BaseException:
            # already completed (an answer lost) or gone: the error that stopped the copy is the one to tell
            with contextlib.suppress(ClientError):
                self.client.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload)
            raise
