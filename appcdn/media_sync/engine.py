"""One reconcile run over one store (an S3 bucket or an Azure container): list, decide, write what differs."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Generic, Protocol, TypeVar

from appcdn import defaults
from appcdn.media_sync.progress import Progress
from appcdn.media_sync.report import Outcome, SyncReport
from appcdn.media_sync.runner import run_bounded
from appcdn.runtime.header_rules import Declared, RuleBook

Item = TypeVar("Item")
DEFAULT_WORKERS = 16


class Store(Protocol, Generic[Item]):
    """What the engine needs from a bucket or container."""

    label: str

    def listing(self) -> Iterator[Item]:
        """Every object, page by page, as the listing returns it."""
        ...

    def key(self, item: Item) -> str: ...

    def served_path(self, key: str) -> str | None:
        """The object's URL path on the media domain when it is publicly served there, else ``None``."""
        ...

    def served_prefixes(self, key_prefix: str) -> list[str]:
        """URL path prefixes covering every served object whose key starts with ``key_prefix``."""
        ...

    def reconcile(self, item: Item, declared: Declared, dry_run: bool) -> bool:
        """Make the object carry ``declared``; whether it had to (or, dry run, would have to) change."""
        ...


def sync_store(
    store: Store[Item],
    book: RuleBook,
    dry_run: bool = False,
    workers: int = DEFAULT_WORKERS,
    progress: Progress | None = None,
) -> SyncReport:
    """Reconcile every object of ``store`` with ``book``; errors are counted per object, never raised."""
    report = progress.report if progress is not None else SyncReport(dry_run=dry_run)
    report.dry_run = dry_run

    def one(item: Item) -> None:
        key = store.key(item)
        declared = book.for_key(key)
        served = store.served_path(key)
        if declared is None:
            report.record(key, None, Outcome.UNMATCHED)
        else:
            try:
                changed = store.reconcile(item, declared, dry_run)
            except Exception as error:
                report.record(key, declared, Outcome.FAILED, served, reason=_reason(error))
            else:
                report.record(key, declared, Outcome.CHANGED if changed else Outcome.UNCHANGED, served)
        if progress is not None:
            progress.tick()

    def listed() -> Iterator[Item]:
        try:
            yield from store.listing()
        except Exception as error:
            raise ListingError(store.label, error) from error

    try:
        run_bounded(listed(), one, workers)
    finally:
        if progress is not None:
            progress.close()
        for tally in report.rules.values():
            tally.purge_prefixes.update(store.served_prefixes(tally.declared.prefix))
    return report


class ListingError(RuntimeError):
    """A store's listing failed even after the SDK's retries: what was listed before is done (and counted)."""

    def __init__(self, label: str, error: Exception):
        self.label, self.error = label, error
        super().__init__(
            f"listing {label} failed, so the objects past that point were not reached: {_reason(error)}. "
            f"Each request is tried up to {defaults.STORE_ATTEMPTS} times on throttling, server errors and lost "
            "connections; check that the store answers and that these credentials may list it, then run "
            "again (objects already right cost a read and no write)"
        )


def _reason(error: Exception) -> str:
    """One line: the error's type and first line (an SDK's error may go on with a raw response body)."""
    status = getattr(error, "status_code", None)
    code = getattr(error, "error_code", None)
    code = getattr(code, "value", code)  # the storage SDK's StorageErrorCode
    first = str(error).splitlines()[0].rstrip(".") if str(error).strip() else ""
    detail = " ".join(str(part) for part in (status, code) if part)
    return f"{type(error).__name__}{f' {detail}' if detail else ''}: {first}"[:300]
