"""Which headers an object should carry, and how a run is tallied: pure functions, no storage."""

from __future__ import annotations

import pytest

from appcdn.config.media import HeaderRule
from appcdn.media_sync.report import PURGE_KEYS_PER_RULE, Outcome, SyncReport
from appcdn.runtime.header_rules import Declared, RuleBook, Stored, is_satisfied
from appcdn_django.globs import literal_prefix

BOOK = RuleBook.from_dicts(
    [
        {"match": "filer_public_thumbnails/*", "cache_control": "public, max-age=31536000"},
        {"match": "documents/*.pdf", "cache_control": "private", "content_language": "de"},
    ]
)


def test_the_first_matching_rule_wins_and_an_unmatched_key_has_none() -> None:
    assert BOOK.for_key("filer_public_thumbnails/a.jpg").index == 0  # type: ignore[union-attr]
    assert BOOK.for_key("documents/x/b.pdf").index == 1  # type: ignore[union-attr]
    assert BOOK.for_key("documents/b.txt") is None


def test_rules_from_dicts_read_what_config_models_give_and_ignore_keys_that_are_not_headers() -> None:
    rule = HeaderRule(match="documents/*.pdf", cache_control="private", content_language="de", edge_ttl="override")
    assert (
        RuleBook.from_dicts([rule.model_dump()]).rules
        == RuleBook([rule]).rules
        == [Declared(0, "documents/*.pdf", "private", None, "de")]
    )
    with pytest.raises(ValueError, match="cache_control must be a string"):
        RuleBook.from_dicts([{"match": "*"}])
    with pytest.raises(ValueError, match="content_language must be a string"):
        RuleBook.from_dicts([{"match": "*", "cache_control": "no-cache", "content_language": ["de"]}])


def test_an_object_is_right_when_it_carries_every_declared_header_and_undeclared_ones_do_not_matter() -> None:
    rule = Declared(0, "*", "max-age=1", content_disposition="attachment")
    assert is_satisfied(rule, Stored("max-age=1", "attachment", "fr"))
    assert not is_satisfied(rule, Stored("max-age=1", None))
    assert not is_satisfied(rule, Stored("max-age=2", "attachment"))
    assert is_satisfied(Declared(0, "*", "max-age=1"), Stored("max-age=1", "inline", "de"))


def test_a_rule_prefix_is_the_glob_before_its_first_wildcard() -> None:
    assert literal_prefix("filer_public_thumbnails/*") == "filer_public_thumbnails/"
    assert literal_prefix("*.pdf") == "" and literal_prefix("exact.txt") == "exact.txt"


def test_a_rule_whose_every_served_object_changed_is_purged_by_prefix() -> None:
    report = SyncReport()
    rule = BOOK.rules[0]
    report.record("filer_public_thumbnails/a.jpg", rule, Outcome.CHANGED, "/filer_public_thumbnails/a.jpg")
    report.record("filer_public_thumbnails/b.jpg", rule, Outcome.CHANGED, "/filer_public_thumbnails/b.jpg")
    assert report.rules[0].purge_by_prefix
    report.record("filer_public_thumbnails/c.jpg", rule, Outcome.UNCHANGED, "/filer_public_thumbnails/c.jpg")
    assert not report.rules[0].purge_by_prefix


def test_remembered_urls_are_bounded_and_past_the_bound_the_rule_is_purged_by_prefix() -> None:
    report = SyncReport()
    rule = BOOK.rules[0]
    for i in range(PURGE_KEYS_PER_RULE + 5):
        report.record(f"k{i}", rule, Outcome.CHANGED, f"/k{i}")
    report.record("kept", rule, Outcome.UNCHANGED, "/kept")
    tally = report.rules[0]
    assert len(tally.served_changed) == PURGE_KEYS_PER_RULE and tally.purge_by_prefix


def test_progress_shows_on_a_terminal_and_stays_silent_elsewhere() -> None:
    import io

    from appcdn.media_sync.progress import Progress

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    report = SyncReport()
    report.record("a", BOOK.rules[0], Outcome.CHANGED)
    terminal, pipe = Terminal(), io.StringIO()
    shown, silent = Progress("s3://b", report, terminal), Progress("s3://b", report, pipe)
    shown.last = silent.last = 0.0  # the refresh interval has passed
    for progress in (shown, silent):
        progress.tick()
        progress.close()
    assert terminal.getvalue().startswith("\rs3://b: scanned 1  changed 1  unchanged 0  failed 0")
    assert terminal.getvalue().endswith("\n") and pipe.getvalue() == ""
