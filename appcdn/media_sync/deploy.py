"""The header reconcile during ``pulumi up``: a Pulumi dynamic provider whose inputs are a site's header rules
and store, so a change of rules shows in ``pulumi preview`` as an update, and ``up`` reconciles the stored
objects. On by default; ``media.sync_headers_on_deploy: false`` turns it off per stack (the platform's
``DISABLE_S3_MEDIA_HEADERS_UPDATE``). Deleting the resource changes nothing stored.

Endpoints and credentials come from the environment ``pulumi up`` runs in, as for the command. After a run
that changed objects served on a media domain it purges them when it has a Cloudflare token (the stack's
``cloudflare:apiToken``, passed as a secret input, or ``CLOUDFLARE_API_TOKEN``); any failed object fails the
update, so the next ``up`` runs it again.
"""

from __future__ import annotations

import io
import os
from collections.abc import Mapping
from typing import Any

from pulumi.dynamic import CreateResult, DiffResult, ResourceProvider, UpdateResult

from appcdn.media_sync.engine import DEFAULT_WORKERS, ListingError
from appcdn.media_sync.purge import PurgeError, purge, purge_plan
from appcdn.media_sync.report import SyncReport
from appcdn.media_sync.targets import AzureTarget, S3Target, Target, sync_target
from appcdn.runtime.header_rules import RuleBook
from appcdn.runtime.s3_objects import COPY_OBJECT_LIMIT

SYNC_INPUTS = ("backend", "bucket", "region", "public_prefixes", "account", "containers", "rules")
"""The inputs whose change means objects may need new headers (the token and the domain do not)."""


def target_of(props: Mapping[str, Any]) -> Target:
    if props["backend"] == "aws":
        threshold = int(props.get("multipart_threshold") or COPY_OBJECT_LIMIT)
        return S3Target(props["bucket"], props["region"], tuple(props.get("public_prefixes") or ()), threshold)
    return AzureTarget(props["account"], tuple((str(c[0]), bool(c[1])) for c in props["containers"]))


def summary(report: SyncReport) -> dict[str, int]:
    return {
        "scanned": report.scanned,
        "changed": report.changed,
        "unchanged": report.unchanged,
        "failed": report.failed,
    }


class MediaHeadersProvider(ResourceProvider):
    """Reconciles on create and on every update of the rules or the store."""

    def _run(self, props: Mapping[str, Any]) -> dict[str, Any]:
        report = SyncReport()
        unlisted: ListingError | None = None
        try:
            sync_target(
                target_of(props),
                RuleBook.from_dicts(props["rules"]),
                workers=int(props.get("workers") or DEFAULT_WORKERS),
                progress_stream=io.StringIO(),
                report=report,
            )
        except ListingError as error:
            unlisted = error  # what changed before the listing stopped is still purged
        try:
            purged = self._purge(props, report)  # what changed, even when other objects failed
        except PurgeError as error:
            raise RuntimeError(
                f"media headers: {report.changed} object(s) changed but not purged ({error}); the "
                "next up finds them right and purges nothing: run `appcdn media purge` once the "
                "API answers"
            ) from None
        if unlisted is not None:
            raise RuntimeError(f"media headers: {report.lines()[-1 - len(report.failures)]}; {unlisted} ({purged})")
        if report.failed:
            raise RuntimeError(
                "media headers: " + "; ".join(report.lines()[-1 - len(report.failures) :]) + f" ({purged})"
            )
        return {**props, "summary": summary(report), "purged": purged}

    def _purge(self, props: Mapping[str, Any], report: SyncReport) -> str:
        host = props.get("media_host")
        plan = purge_plan(report, host) if host else None
        if not plan:
            return "nothing to purge"
        token = props.get("cloudflare_api_token") or os.environ.get("CLOUDFLARE_API_TOKEN")
        if not token:
            return "not purged (no Cloudflare token): " + ", ".join(plan.prefixes + plan.urls[:10])
        out = io.StringIO()
        purge(plan, props["zone"], props.get("zone_id"), props.get("zone_plan") or "free", out, token)
        return out.getvalue().strip()

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        changed = [k for k in SYNC_INPUTS if olds.get(k) != news.get(k)]
        return DiffResult(changes=bool(changed), replaces=[], stables=[], delete_before_replace=False)

    def create(self, props: dict[str, Any]) -> CreateResult:
        store = props.get("bucket") or props.get("account")
        return CreateResult(id_=f"{props['backend']}:{store}", outs=self._run(props))

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(outs=self._run(news))

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        """Objects keep the headers they have."""
