"""Match → expression, checked by Cloudflare's own wirefilter parser, and the matching evaluator."""

from typing import Any

import octorules_wirefilter
import pytest

from appcdn.config.cache import Match
from appcdn.rules.expressions import Request, any_of, any_of_length, match_expression, quote, request_matches
from appcdn_django.globs import glob_matches

HOSTS = ["www.example.com", "example.com"]


def parses(expression: str) -> dict[str, Any]:
    result = octorules_wirefilter.parse_expression(expression)
    assert "error" not in result, result.get("error")
    return result


@pytest.mark.parametrize(
    "match,operators,functions",
    [
        (Match(), ["in"], ["lower"]),
        (Match(path_prefixes=["/static/", "/assets/"]), ["and", "in", "or"], ["lower", "starts_with"]),
        (Match(paths=["/media/*.jpg"]), ["and", "in", "strict_wildcard"], ["lower"]),
        (Match(path_segments=["admin"]), ["and", "contains", "in", "or"], ["ends_with", "lower"]),
        (Match(extensions=["css", "js"]), ["and", "in"], ["lower"]),
        (Match(methods=["GET"]), ["and", "eq", "in"], ["lower"]),
        (Match(cookies=["sessionid"]), ["and", "contains", "in"], ["lower"]),
        (Match(headers=["authorization"]), ["and", "in", "or"], ["has_key", "lower"]),
        (Match(query_args=["edit", "toolbar_off"]), ["and", "in"], ["any", "lower", "url_decode"]),
        (Match(expression='http.request.uri.query contains "preview"'), ["and", "contains", "in"], ["lower"]),
    ],
)
def test_each_criterion_parses_with_wirefilter(match: Match, operators: list[str], functions: list[str]) -> None:
    result = parses(match_expression(HOSTS, match))
    assert sorted(set(result["operators"])) == sorted(operators)
    assert sorted(set(result["functions"])) == sorted(functions)


def test_values_are_sorted_and_deduplicated() -> None:
    assert (
        match_expression(["b.example.com", "a.example.com", "a.example.com"], Match())
        == 'lower(http.host) in {"a.example.com" "b.example.com"}'
    )


def test_rule_hosts_narrow_the_site_hosts() -> None:
    assert match_expression(HOSTS, Match(hosts=["example.com"])) == 'lower(http.host) eq "example.com"'


def test_hosts_match_whatever_case_the_client_sends() -> None:
    assert request_matches(Request("WWW.Example.COM"), HOSTS, Match())


@pytest.mark.parametrize("path", ["/admin", "/admin/", "/en/admin/", "/ADMIN/", "//admin/", "/de/Admin/login/"])
def test_a_path_segment_matches_anywhere_in_any_case(path: str) -> None:
    assert request_matches(Request("example.com", path), HOSTS, Match(path_segments=["admin"]))


@pytest.mark.parametrize("path", ["/administrator/", "/admins", "/x-admin/", "/"])
def test_a_path_segment_is_a_whole_segment(path: str) -> None:
    assert not request_matches(Request("example.com", path), HOSTS, Match(path_segments=["admin"]))


def test_query_arguments_match_by_name() -> None:
    match = Match(query_args=["edit"])
    assert request_matches(Request("example.com", query_args=frozenset(["edit"])), HOSTS, match)
    assert not request_matches(Request("example.com", query_args=frozenset(["editor"])), HOSTS, match)


@pytest.mark.parametrize("sent", ["%65dit", "%65%64%69%74", "ed%69t", "%45dit%00"[:6]])
def test_query_argument_names_match_as_django_decodes_them(sent: str) -> None:
    """Cloudflare does not decode ``http.request.uri.args.names``; Django does: ``?%65dit`` is ``?edit``."""
    match = Match(query_args=["edit"])
    expected = sent != "%45dit"  # %45 is "E": Django's names are case-sensitive, so ?Edit is not ?edit
    assert request_matches(Request("example.com", query_args=frozenset([sent])), HOSTS, match) is expected
    assert 'any(url_decode(http.request.uri.args.names[*])[*] eq "edit")' in match_expression(HOSTS, match)


def test_query_argument_names_are_decoded_once_as_django_does() -> None:
    match = Match(query_args=["edit"])
    assert not request_matches(Request("example.com", query_args=frozenset(["%2565dit"])), HOSTS, match)


def test_headers_and_query_arguments_unpack_one_array_in_one_expression() -> None:
    """Cloudflare applies ``[*]`` to one array per expression (octorules-cloudflare's CF309): a header is looked
    up with ``has_key`` in the header map, whose keys Cloudflare lower-cases."""
    expression = match_expression(HOSTS, Match(headers=["authorization"], query_args=["edit"]))
    assert expression.count("[*]") == 2 and expression.count("http.request.uri.args.names[*]") == 1
    assert '(has_key(http.request.headers, "authorization") or http.request.headers.truncated)' in expression


def test_a_truncated_header_list_may_hold_any_header() -> None:
    assert request_matches(Request("example.com", headers_truncated=True), HOSTS, Match(headers=["authorization"]))


def test_string_literals_are_escaped() -> None:
    assert quote('a"b\\c') == '"a\\"b\\\\c"'
    tricky = '/a"b'
    assert parses("http.request.uri.path eq " + quote(tricky))["string_literals"] == [tricky]


@pytest.mark.parametrize(
    "glob,path,expected",
    [
        ("/media/*", "/media/a/b.jpg", True),
        ("/media/*.jpg", "/media/x.jpg", True),
        ("/media/*.jpg", "/media/x.png", False),
        ("/*/feed/*", "/en/feed/rss", True),
        ("/*/feed/*", "/feed/rss", False),
        ("/exact", "/exact", True),
        ("/exact", "/exact/", False),
        ("/a*a", "/a", False),
        ("/Media/*", "/media/x", False),
    ],
)
def test_glob_is_cloudflares_strict_wildcard(glob: str, path: str, expected: bool) -> None:
    assert glob_matches(glob, path) is expected


def test_request_matches_all_criteria_together() -> None:
    match = Match(path_prefixes=["/static/"], extensions=["css"], methods=["GET"])
    assert request_matches(Request("www.example.com", "/static/site.css"), HOSTS, match)
    assert not request_matches(Request("www.example.com", "/static/site.js"), HOSTS, match)
    assert not request_matches(Request("www.example.com", "/static/site.css", method="POST"), HOSTS, match)
    assert not request_matches(Request("blog.example.com", "/static/site.css"), HOSTS, match)


def test_header_names_match_in_any_case() -> None:
    assert request_matches(
        Request("example.com", headers=frozenset(["Authorization"])), HOSTS, Match(headers=["authorization"])
    )


def test_cookie_presence_over_matches_safely() -> None:
    match = Match(cookies=["sessionid"])
    assert request_matches(Request("example.com", cookies=frozenset(["sessionid"])), HOSTS, match)
    assert request_matches(Request("example.com", cookies=frozenset(["sessionid "])), HOSTS, match)  # Django strips it
    assert request_matches(Request("example.com", cookies=frozenset(["admin_sessionid"])), HOSTS, match)
    assert not request_matches(Request("example.com", cookies=frozenset(["csrftoken"])), HOSTS, match)


def test_raw_expression_holds_only_where_the_request_says_so() -> None:
    match = Match(expression='http.request.uri.query contains "preview"')
    assert not request_matches(Request("example.com"), HOSTS, match)
    assert request_matches(Request("example.com", true_expressions=frozenset([str(match.expression)])), HOSTS, match)


@pytest.mark.parametrize(
    "values", [["a.example.com"], ["a.example.com", "b.example.com"], ['q"uote', "back\\slash", "x", "y" * 300]]
)
def test_the_length_of_a_value_test_is_known_without_writing_it(values: list[str]) -> None:
    quoted = sum(len(quote(v)) for v in values)
    assert any_of_length("lower(http.host)", len(values), quoted) == len(any_of("lower(http.host)", values))
