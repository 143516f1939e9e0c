"""Which combinations of path criteria and request facts can occur together, found exactly, with examples."""

from hypothesis import given, settings
from hypothesis import strategies as st

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
    space = Space([("cookie", "cms_sid"), ("cookie", "sid")])
    assert not space.satisfiable({("cookie", "cms_sid"): True, ("cookie", "sid"): False})
    assert space.satisfiable({("cookie", "sid"): True, ("cookie", "cms_sid"): False})


def test_methods_are_one_at_a_time() -> None:
    space = Space([CACHEABLE, ("method", "POST"), ("method", "DELETE|POST")])
    assert not space.satisfiable({CACHEABLE: True, ("method", "POST"): True})
    assert space.satisfiable({CACHEABLE: False, ("method", "DELETE|POST"): False})  # PROPFIND, PURGE, …


def test_the_two_branches_on_an_open_atom_are_those_a_request_can_take() -> None:
    """A tree splitting a class on an atom keeps the branches some request takes: for a path atom a shortest
    path of the class decides one branch without a search; the other facts are asked in full or free."""
    atoms = [("prefix", "/a/"), ("prefix", "/a/b/"), ("extension", "css"), ("glob", "/*/feed"), ("segment", "a")]
    space = Space([*atoms, ("cookie", "sid"), ("cookie", "cms_sid"), ("query", "page")])
    classes = [{}, {("prefix", "/a/"): True}, {("extension", "css"): True}, {("prefix", "/a/"): False}]
    classes += [{("cookie", "cms_sid"): True}, {("glob", "/*/feed"): True, ("segment", "a"): False}]
    for literals in classes:
        for atom in [*atoms, ("cookie", "sid"), ("query", "page")]:
            if atom in literals:
                continue
            wanted = (space.satisfiable({**literals, atom: True}), space.satisfiable({**literals, atom: False}))
            assert space.branches(literals, atom) == wanted, (literals, atom)
    assert space.branches({("prefix", "/a/b/"): True}, ("prefix", "/a/")) == (True, False)
    assert space.branches({("extension", "css"): True}, ("glob", "/*/feed")) == (False, True)
    assert space.branches({("cookie", "cms_sid"): True}, ("cookie", "sid")) == (True, False)


TEXT = st.text(alphabet="/aB.x", min_size=0, max_size=3)
FIXED_END = st.one_of(
    TEXT.map(lambda t: path_space.prefix("/" + t)),
    TEXT.map(path_space.extension),
    TEXT.map(lambda t: (path_space.Glob("*" + t, lower=True),)),
    TEXT.map(lambda t: path_space.glob("/" + t + "*x")),  # not a start: a star inside
    TEXT.map(lambda t: (path_space.Glob("/a*" + t + "*.x", lower=True),)),
    TEXT.map(path_space.segment),
)


@settings(max_examples=150, deadline=None)
@given(st.lists(FIXED_END, min_size=1, max_size=3), st.lists(st.text(alphabet="/aAbB.x", max_size=6), max_size=5))
def test_starts_and_ends_are_compared_as_texts_exactly_as_their_automata_decide(
    predicates: list[path_space.PathPredicate], paths: list[str]
) -> None:
    """A prefix holds where the path starts with its text, an extension where the lower-cased path ends with
    its text; a glob's paths start with the text before its first star and end with the text after its last:
    answers taken from the texts (or paths joined from them) are those of the automata, for every combination
    of values."""
    space = path_space.PathSpace(predicates)
    index = {c: i for i, c in enumerate(space.alphabet)}
    for path in ["/" + p for p in paths if all(c in index for c in p)]:
        automata = sum(1 << i for i, a in enumerate(space.automata) if a.run(path, index))
        assert space.vector(path) == automata, path
    every = (1 << len(predicates)) - 1
    for mask in range(1, every + 1):
        for value in range(every + 1):
            searched = space._shortest_over(mask, value & mask) is not None
            assert space.satisfiable(mask, value & mask) == searched, (mask, value)
