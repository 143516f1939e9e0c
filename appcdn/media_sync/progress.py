"""A one-line progress display on a terminal (stderr); silent when stderr is not a terminal."""

from __future__ import annotations

import sys
import threading
import time
from typing import TextIO

from appcdn.media_sync.report import SyncReport

REFRESH_SECONDS = 0.2


class Progress:
    def __init__(self, label: str, report: SyncReport, stream: TextIO | None = None, force: bool = False):
        self.label, self.report = label, report
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = force or self.stream.isatty()
        self.started = self.last = time.monotonic()
        self._lock = threading.Lock()

    def _line(self) -> str:
        r = self.report
        rate = r.scanned / max(time.monotonic() - self.started, 1e-9)
        return (
            f"\r{self.label}: scanned {r.scanned}  changed {r.changed}  unchanged {r.unchanged}  "
            f"failed {r.failed}  ({rate:.0f} objects/s)"
        )

    def tick(self) -> None:
        if not self.enabled:
            return
        with self._lock:
            now = time.monotonic()
            if now - self.last >= REFRESH_SECONDS:
                self.last = now
                self.stream.write(self._line())
                self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self.stream.write(self._line() + "\n")
            self.stream.flush()
