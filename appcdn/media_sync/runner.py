"""Bounded, streaming concurrency: a fixed pool of threads and a fixed number of items in flight, so a
listing of millions of keys is consumed as it is paged in, in constant memory.

Interrupting (Ctrl-C) cancels what has not started; what has started finishes or fails on its own: each
item's write is one atomic request (or a multipart copy whose parts are invisible until it completes).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import TypeVar

T = TypeVar("T")
IN_FLIGHT_PER_WORKER = 4


def run_bounded(items: Iterable[T], work: Callable[[T], None], workers: int) -> None:
    """Call ``work`` on every item with at most ``workers`` threads and ``workers × 4`` items pending.
    ``work`` handles its own errors; one raised anyway stops the run and is raised here."""
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="media-sync")
    pending: set[Future[None]] = set()
    try:
        for item in items:
            if len(pending) >= workers * IN_FLIGHT_PER_WORKER:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    future.result()
            pending.add(pool.submit(work, item))
        for future in wait(pending).done:
            future.result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
