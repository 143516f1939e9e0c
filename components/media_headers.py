"""``MediaHeaders``: the stored objects of a site's media carry its header rules' headers after every ``up``
that changes the rules (a dynamic resource; the provider is ``appcdn.media_sync.deploy``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NotRequired, TypedDict

import pulumi
import pulumi.dynamic

from appcdn.media_sync.deploy import MediaHeadersProvider


class MediaHeadersArgs(TypedDict):
    backend: str
    """aws | azure."""
    rules: Sequence[Mapping[str, Any]]
    """The ordered header rules (first match wins), as config gives them."""
    bucket: NotRequired[pulumi.Input[str]]
    """aws: the bucket."""
    region: NotRequired[str]
    """aws: its region."""
    public_prefixes: NotRequired[Sequence[str]]
    """aws: keys the media domain serves (candidates for purging)."""
    multipart_threshold: NotRequired[int]
    """aws: objects larger than this (bytes) are copied part by part; default 5 GiB (``CopyObject``'s limit)."""
    account: NotRequired[pulumi.Input[str]]
    """azure: the storage account."""
    containers: NotRequired[Sequence[tuple[str, bool]]]
    """azure: (container, served on the media domain)."""
    media_host: NotRequired[str | None]
    """The media domain, when Cloudflare caches it: what changed there is purged."""
    zone: NotRequired[str]
    """The media domain's zone (name)."""
    zone_id: NotRequired[pulumi.Input[str] | None]
    zone_plan: NotRequired[str]
    cloudflare_api_token: NotRequired[pulumi.Input[str] | None]
    """A secret; without one, what would be purged is only reported in the outputs."""


class MediaHeaders(pulumi.dynamic.Resource, module="appcdn", name="MediaHeaders"):
    """Reconciles on create and whenever the rules or the store change; deleting it changes nothing stored."""

    summary: pulumi.Output[dict[str, int]]
    """scanned, changed, unchanged, failed of the last run."""

    def __init__(self, name: str, args: MediaHeadersArgs, opts: pulumi.ResourceOptions | None = None):
        props: dict[str, Any] = {"summary": None, "purged": None, **args}
        super().__init__(MediaHeadersProvider(), name, props, opts)
