"""Which combinations of path criteria and request facts can occur together, found exactly, with examples."""

from appcdn.behaviour import path_space
from appcdn.behaviour.request_atoms import CACHEABLE, Space


def combinations(*predicates: path_space.PathPredicate) -> dict[tuple[bool, ...], str]:
    """Every combination of the predicates' values some path gives, with a shortest such path."""
    space = path_space.PathSpace(predicates)
    every = (1 << len(predicates)) - 1
    found = {v: space.example(every, v) for v in range(every + 1)}
    return {tuple(bool(v >> i & 1) for i in range(len(predicates))): p for v, p in found.items() if p is not None}


def test_a_longer_prefix_implies_the_shorter_one() -> None:
    assert combinations(path_space.prefix("/a/"), path_space.prefix("/a/b/")) == {
        (False, False): "/",
        (True, False): "/a/",
        (True, True): "/a/b/",
    }


def test_globs_that_overlap_are_found_together_with_the_shortest_path() -> None:
    found = combinations(path_space.glob("/*.jpg"), path_space.glob("/media/*/x*"))
    assert found[(True, True)] == "/media//x.jpg"
    assert set(found) == {(False, False), (True, False), (False, True), (True, True)}


def test_segments_and_extensions_are_matched_in_lower_case_and_prefixes_are_not() -> None:
    found = combinations(path_space.segment("admin"), path_space.prefix("/admin/"), path_space.extension("css"))
    assert (True, False, False) in found  # /ADMIN, /en/admin
    assert found[(True, True, True)] == "/admin/.css"
    assert (False, True, False) not in found  # /admin/… always has the segment


def test_a_cookie_name_inside_a_present_ones_name_is_present_too() -> None:
    space = Space([])
    assert not space.satisfiable({("cookie", "cms_sid"): True, ("cookie", "sid"): False})
    assert space.satisfiable({("cookie", "sid"): True, ("cookie", "cms_sid"): False})


def test_methods_are_one_at_a_time() -> None:
    space = Space([])
    assert not space.satisfiable({CACHEABLE: True, ("method", "POST"): True})
    assert space.satisfiable({CACHEABLE: False, ("method", "DELETE|POST"): False})  # PROPFIND, PURGE, …
