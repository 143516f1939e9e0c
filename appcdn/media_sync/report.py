"""The tally of one run: per rule and in total, thread-safe, bounded in memory whatever the object count.

Changed objects that the media domain serves are remembered for purging, up to ``PURGE_KEYS_PER_RULE`` per
rule; past that, and whenever every served object of a rule changed, the rule is purged by its prefixes.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from enum import Enum

from appcdn.runtime.header_rules import Declared

EXAMPLES_PER_RULE = 3
PURGE_KEYS_PER_RULE = 1000
FAILURES_KEPT = 20


class Outcome(Enum):
    CHANGED = "changed"
    UNCHANGED = "unchanged"
    FAILED = "failed"
    UNMATCHED = "unmatched"
    """No rule matches the key: left alone."""


@dataclass
class RuleTally:
    declared: Declared
    changed: int = 0
    unchanged: int = 0
    failed: int = 0
    served_scanned: int = 0
    """Objects of this rule the media domain serves (public), changed or not."""
    examples: list[str] = field(default_factory=list)
    served_changed: list[str] = field(default_factory=list)
    """URL paths of changed served objects, up to ``PURGE_KEYS_PER_RULE``."""
    served_changed_count: int = 0
    purge_prefixes: set[str] = field(default_factory=set)
    """URL path prefixes covering the served objects of this rule (set by the engine from each store)."""

    @property
    def purge_by_prefix(self) -> bool:
        """Every served object of the rule changed, or too many to name one by one."""
        return self.served_changed_count > 0 and (
            self.served_changed_count == self.served_scanned or self.served_changed_count > PURGE_KEYS_PER_RULE
        )


@dataclass
class SyncReport:
    dry_run: bool = False
    scanned: int = 0
    changed: int = 0
    unchanged: int = 0
    failed: int = 0
    unmatched: int = 0
    rules: dict[int, RuleTally] = field(default_factory=dict)
    failures: list[tuple[str, str]] = field(default_factory=list)
    """(key, reason) of the first ``FAILURES_KEPT`` failures."""
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def record(
        self, key: str, declared: Declared | None, outcome: Outcome, served_path: str | None = None, reason: str = ""
    ) -> None:
        """One object's outcome; ``served_path``: its URL path when the media domain serves it."""
        with self._lock:
            self.scanned += 1
            if declared is None or outcome is Outcome.UNMATCHED:
                self.unmatched += 1
                return
            tally = self.rules.setdefault(declared.index, RuleTally(declared))
            if served_path is not None:
                tally.served_scanned += 1
            if outcome is Outcome.FAILED:
                self.failed += 1
                tally.failed += 1
                if len(self.failures) < FAILURES_KEPT:
                    self.failures.append((key, reason))
            elif outcome is Outcome.UNCHANGED:
                self.unchanged += 1
                tally.unchanged += 1
            else:
                self.changed += 1
                tally.changed += 1
                if len(tally.examples) < EXAMPLES_PER_RULE:
                    tally.examples.append(key)
                if served_path is not None:
                    tally.served_changed_count += 1
                    if len(tally.served_changed) < PURGE_KEYS_PER_RULE:
                        tally.served_changed.append(served_path)

    def lines(self) -> list[str]:
        """Per rule (dry run: what would change, with examples), then the summary."""
        verb = "would change" if self.dry_run else "changed"
        out = []
        for index in sorted(self.rules):
            t = self.rules[index]
            out.append(
                f"  rule {index} {t.declared.match!r} (Cache-Control: {t.declared.cache_control}): "
                f"{verb} {t.changed}, unchanged {t.unchanged}, failed {t.failed}"
            )
            out += [f"      e.g. {key}" for key in t.examples]
        out.append(
            f"scanned {self.scanned}, {verb} {self.changed}, unchanged {self.unchanged}, "
            f"failed {self.failed}" + (f", matched by no rule {self.unmatched}" if self.unmatched else "")
        )
        out += [f"  failed: {key}: {reason}" for key, reason in self.failures]
        return out
