"""Glob inclusion and overlap for '*'-only globs, decided exactly and checked against random strings."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from appcdn_django.globs import common_example, covers, glob_matches, not_covered_example, overlap

GLOBS = st.text(alphabet="ab/.*", max_size=7)
TEXTS = st.text(alphabet="ab/.x", max_size=9)


@pytest.mark.parametrize(
    "wide, narrow",
    [
        ("*.jpg", "thumbs/*.jpg"),
        ("**", "*"),
        ("*", "**"),
        ("*", "filer_public_thumbnails/*"),
        ("a*", "a*b*"),
        ("*b*", "a*b"),
        ("a*c", "ab*c"),
    ],
)
def test_covering_globs(wide: str, narrow: str) -> None:
    assert covers(wide, narrow)


@pytest.mark.parametrize(
    "wide, narrow",
    [
        ("thumbs/*.jpg", "*.jpg"),
        ("a*b*c", "a*bc*"),
        ("*a", "*"),
        ("a*", "*a"),
        ("/static/*", "/sitemap*.xml"),
    ],
)
def test_globs_that_do_not_cover_give_an_example(wide: str, narrow: str) -> None:
    assert not covers(wide, narrow)
    example = not_covered_example(narrow, wide)
    assert example is not None and glob_matches(narrow, example) and not glob_matches(wide, example)


def test_overlap_and_its_example() -> None:
    assert not overlap("/static/*", "/sitemap*.xml")
    example = common_example("/s*", "/*.xml")
    assert example is not None and glob_matches("/s*", example) and glob_matches("/*.xml", example)


@settings(max_examples=300, deadline=None)
@given(GLOBS, GLOBS, st.lists(TEXTS, max_size=20))
def test_inclusion_is_sound_and_complete(wide: str, narrow: str, texts: list[str]) -> None:
    """Sound: every random string the narrow glob matches, a covering glob matches too. Complete: when not
    covering, the example is a real counter-example."""
    if covers(wide, narrow):
        assert all(glob_matches(wide, t) for t in texts if glob_matches(narrow, t))
    else:
        example = not_covered_example(narrow, wide)
        assert example is not None and glob_matches(narrow, example) and not glob_matches(wide, example)


@settings(max_examples=300, deadline=None)
@given(GLOBS, GLOBS, st.lists(TEXTS, max_size=20))
def test_overlap_is_sound_and_complete(a: str, b: str, texts: list[str]) -> None:
    if overlap(a, b):
        example = common_example(a, b)
        assert example is not None and glob_matches(a, example) and glob_matches(b, example)
    else:
        assert not any(glob_matches(a, t) and glob_matches(b, t) for t in texts)
