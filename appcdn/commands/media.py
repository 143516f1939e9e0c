"""``appcdn media sync-headers``: make every stored media object of a site carry its header rule's headers,
then purge what changed from the media domain's edge cache.

The site, its rules and its store come from the project's stack files (validated as ``appcdn plan`` does);
``--bucket`` / ``--account`` / ``--container`` override the store's names. Endpoints and credentials come
from the standard environment. Exit 0 when every object is right, 1 if any failed (or the purge did), 2 on
a config error, 130 when interrupted (rerun to finish: every object is either old or new).
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from appcdn.config.problems import ConfigError
from appcdn.config.project import Project, load_project, locate
from appcdn.config.pulumi_yaml.stack_files import read_project
from appcdn.config.stack import Site
from appcdn.media_sync.engine import DEFAULT_WORKERS, ListingError
from appcdn.media_sync.purge import PurgeError, PurgePlan, purge, purge_plan, rules_plan
from appcdn.media_sync.report import SyncReport
from appcdn.media_sync.targets import TargetError, resolve_target, served_prefixes, sync_target
from appcdn.runtime.header_rules import RuleBook

EXIT_FAILED = 1
EXIT_INVALID = 2
EXIT_INTERRUPTED = 130
NAME = "appcdn media sync-headers"
PURGE_NAME = "appcdn media purge"


@dataclass(frozen=True)
class SyncRequest:
    project_dir: Path
    stack: str
    site: str
    bucket: str | None = None
    account: str | None = None
    container: str | None = None
    dry_run: bool = False
    workers: int = DEFAULT_WORKERS


def _load(request: SyncRequest, err: TextIO, name: str = NAME) -> tuple[Project, Site] | None:
    try:
        own, peers = read_project(request.project_dir, request.stack)
    except FileNotFoundError as error:
        print(f"{name}: {error}", file=err)
        return None
    except ConfigError as error:
        print(f"stack {request.stack}: {error.report()}", file=err)
        return None
    for warning in [w for f in (own, *peers) for w in f.warnings]:
        print(f"warning: {warning}", file=err)
    sources = [own.source(), *(peer.source() for peer in peers)]
    try:
        project = load_project(sources[0], sources[1:])
    except ConfigError as error:
        print(f"stack {request.stack}: {ConfigError(locate(error.problems, sources)).report()}", file=err)
        return None
    site = next((s for s in project.config.sites if s.name == request.site), None)
    if site is None:
        names = ", ".join(s.name for s in project.config.sites)
        print(f"{name}: stack {request.stack} has no site {request.site!r} (sites: {names})", file=err)
        return None
    if site.media is None:
        print(f"{name}: site {site.name} has no media on stack {request.stack}", file=err)
        return None
    return project, site


def _cached_media_host(site: Site) -> str | None:
    media = site.media
    return media.domain.host if media is not None and media.domain is not None and media.domain.cache else None


def _purge(project: Project, site: Site, plan: PurgePlan, dry_run: bool, out: TextIO, err: TextIO) -> bool:
    """Purge ``plan`` from the site's media domain; whether that went well (or was not needed)."""
    host = _cached_media_host(site)
    if host is None or not plan:
        return True
    verb = "would purge" if dry_run else "to purge"
    print(f"Cloudflare cache on {host}, {verb}:", file=out)
    print("\n".join(plan.lines()), file=out)
    if dry_run:
        return True
    if not os.environ.get("CLOUDFLARE_API_TOKEN"):
        print(
            "notice: CLOUDFLARE_API_TOKEN is not set, so nothing was purged; the edge keeps serving the old "
            "headers until the cached copies expire (purge the list above to apply them now)",
            file=out,
        )
        return True
    zone = project.zone(site.zone)
    try:
        purge(plan, site.zone, zone.id, zone.plan, out)
    except PurgeError as error:
        print(f"{NAME}: {error}; {_purge_later(site)}", file=err)
        return False
    return True


def _purge_later(site: Site) -> str:
    """How to purge what a run changed when that run did not: a rerun finds the objects right and purges
    nothing."""
    return (
        f"`appcdn media purge --stack <stack> --site {site.name}` purges everything the rules cover "
        "(or let the edge copies expire)"
    )


def _store_unusable(error: Exception) -> bool:
    """The store cannot be used as configured (no credentials, no such bucket or container): a config error."""
    from azure.core.exceptions import ClientAuthenticationError, ResourceNotFoundError
    from botocore.exceptions import ClientError, NoCredentialsError

    from appcdn.media_sync.clients import CredentialsMissing

    if isinstance(error, ClientError):
        return error.response.get("Error", {}).get("Code") in (
            "NoSuchBucket",
            "AccessDenied",
            "InvalidAccessKeyId",
            "SignatureDoesNotMatch",
        )
    return isinstance(error, (CredentialsMissing, NoCredentialsError, ResourceNotFoundError, ClientAuthenticationError))


def sync_headers(request: SyncRequest, out: TextIO | None = None, err: TextIO | None = None) -> int:
    out, err = out or sys.stdout, err or sys.stderr
    loaded = _load(request, err)
    if loaded is None:
        return EXIT_INVALID
    project, site = loaded
    assert site.media is not None
    try:
        target = resolve_target(site.media, request.bucket, request.account, request.container)
    except TargetError as error:
        print(f"{NAME}: {error}", file=err)
        return EXIT_INVALID
    report = SyncReport(dry_run=request.dry_run)
    mode = " (dry run: nothing is written)" if request.dry_run else ""
    print(f"site {site.name} on stack {request.stack}: {', '.join(target.labels())}{mode}", file=out)
    host = _cached_media_host(site)
    unlisted: ListingError | None = None
    try:
        sync_target(target, RuleBook(site.media.headers), request.dry_run, request.workers, err, report=report)
    except KeyboardInterrupt:
        print("\n".join(report.lines()), file=out)
        changed = (
            f"; {report.changed} changed so far and not purged: {_purge_later(site)}"
            if report.changed and host is not None and not request.dry_run
            else ""
        )
        print(
            f"interrupted: every object is either as it was or done; run the command again to finish{changed}", file=err
        )
        return EXIT_INTERRUPTED
    except ListingError as error:
        if _store_unusable(error.error):
            print("\n".join(report.lines()), file=out)
            print(f"{NAME}: {error}", file=err)
            return EXIT_INVALID
        unlisted = error  # what changed before the listing stopped is still purged
    except Exception as error:
        print("\n".join(report.lines()), file=out)
        print(f"{NAME}: {type(error).__name__}: {error}", file=err)
        return EXIT_INVALID if _store_unusable(error) else EXIT_FAILED
    print("\n".join(report.lines()), file=out)
    if unlisted is not None:
        print(f"{NAME}: {unlisted}", file=err)
    try:
        purged = host is None or _purge(project, site, purge_plan(report, host), request.dry_run, out, err)
    except KeyboardInterrupt:
        print(f"interrupted during the purge: {_purge_later(site)}", file=err)
        return EXIT_INTERRUPTED
    return EXIT_FAILED if report.failed or unlisted is not None or not purged else 0


def purge_media(request: SyncRequest, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """``appcdn media purge``: purge from the site's media domain everything its header rules cover, by prefix
    (after an S3 Batch Operations job has changed headers, which purges nothing itself)."""
    out, err = out or sys.stdout, err or sys.stderr
    loaded = _load(request, err, PURGE_NAME)
    if loaded is None:
        return EXIT_INVALID
    project, site = loaded
    assert site.media is not None
    host = _cached_media_host(site)
    if host is None:
        print(
            f"{PURGE_NAME}: site {site.name} has no media domain cached by Cloudflare on stack {request.stack}: "
            "nothing to purge",
            file=out,
        )
        return 0
    paths = [path for rule in RuleBook(site.media.headers).rules for path in served_prefixes(site.media, rule.prefix)]
    plan = rules_plan(paths, host)
    if not plan:
        print(f"{PURGE_NAME}: no rule of site {site.name} covers a publicly served object: nothing to purge", file=out)
        return 0
    try:
        return 0 if _purge(project, site, plan, request.dry_run, out, err) else EXIT_FAILED
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
