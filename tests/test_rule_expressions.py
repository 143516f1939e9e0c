"""Rules someone else wrote, evaluated on a request: what is understood, and what is honestly unknown."""

import pytest

from appcdn.rules.expression_reader import parse
from appcdn.rules.expressions import Request

BLOG = Request(host="www.example.com", path="/Blog/post.html", method="GET", cookies=frozenset({"sessionid"}))


@pytest.mark.parametrize(
    "expression,expected",
    [
        ('(http.host eq "www.example.com")', True),
        ('http.host == "shop.example.com"', False),
        ('http.host ne "shop.example.com" && http.request.method eq "GET"', True),
        ('http.host in {"a.example.com" "www.example.com"}', True),
        ('starts_with(http.request.uri.path, "/Blog/")', True),
        ('ends_with(http.request.uri.path, ".html")', True),
        ('lower(http.request.uri.path) eq "/blog/post.html"', True),
        ('http.request.uri.path wildcard "/blog/*"', True),  # wildcard ignores case
        ('http.request.uri.path strict wildcard "/blog/*"', False),  # strict wildcard does not
        ('http.request.uri.path.extension in {"css" "js"}', False),
        ('http.request.full_uri contains "www.example.com/Blog"', True),
        ('http.cookie contains "sessionid="', True),
        ('not (http.host eq "www.example.com") || true', True),
        ("false or false", False),
    ],
)
def test_the_understood_part_of_the_language_is_evaluated(expression: str, expected: bool) -> None:
    assert parse(expression).matches(BLOG) is expected


@pytest.mark.parametrize(
    "expression",
    [
        "ip.src eq 192.0.2.1",
        'http.request.uri.query contains "v="',
        'any(http.request.headers["x"][*] == "y")',
        'any(url_decode(http.request.uri.args.names[*], "r")[*] eq "edit")',
        'http.request.uri.path matches "^/blog/"',
        'http.host eq "www.example.com" and len(http.cookie) gt 3',
        "not ip.src in {192.0.2.0/24}",
    ],
)
def test_what_is_not_understood_is_unknown_rather_than_guessed(expression: str) -> None:
    assert parse(expression).matches(BLOG) is None


EDITOR = Request(
    host="www.example.com",
    headers=frozenset({"Authorization"}),
    query_args=frozenset({"%65dit", "a+b"}),
    cookies=frozenset({"a=sessionid"}),
)


@pytest.mark.parametrize(
    "expression,request_,expected",
    [
        ('any(url_decode(http.request.uri.args.names[*])[*] in {"edit" "preview"})', EDITOR, True),
        ('any(url_decode(http.request.uri.args.names[*])[*] eq "a b")', EDITOR, True),  # + is a space
        ('any(http.request.uri.args.names[*] eq "edit")', EDITOR, False),  # not decoded
        ('any(lower(http.request.headers.names[*])[*] eq "authorization")', EDITOR, True),
        ('any(http.request.headers.names[*] eq "authorization")', EDITOR, False),  # names keep their case
        ('has_key(http.request.headers, "authorization")', EDITOR, True),  # the map's keys are lower case
        ('has_key(http.request.headers, "authorization")', BLOG, False),
        ("http.request.headers.truncated", BLOG, False),
        (
            'has_key(http.request.headers, "x") or http.request.headers.truncated',
            Request("a", headers_truncated=True),
            True,
        ),
        ('http.cookie contains "sessionid"', EDITOR, True),  # a value holding the name
    ],
)
def test_what_appcdn_emits_for_headers_query_arguments_and_cookies_is_evaluated(
    expression: str, request_: Request, expected: bool | None
) -> None:
    assert parse(expression).matches(request_) is expected


def test_a_header_a_truncated_list_may_have_dropped_is_unknown_alone() -> None:
    truncated = Request("a", headers=frozenset({"Authorization"}), headers_truncated=True)
    assert parse('has_key(http.request.headers, "authorization")').matches(truncated) is None
    assert parse('any(lower(http.request.headers.names[*])[*] eq "x")').matches(truncated) is None


@pytest.mark.parametrize(
    "expression",
    [
        'http.host eq "x" and ip.src eq 192.0.2.1',
        'http.host eq "x" and any(lower(http.request.headers.names[*])[*] eq "a")',
    ],
)
def test_a_rule_for_another_host_is_known_not_to_apply_even_when_the_rest_is_unknown(expression: str) -> None:
    assert parse(expression).matches(BLOG) is False


@pytest.mark.parametrize(
    "expression",
    [
        "http.host eq",
        '(http.host eq "a"',
        'http.host @ "a"',
        '"a" eq http.host',
        'http.request.headers["x"][0] eq "y"',
        "",
    ],
)
def test_an_expression_that_cannot_be_read_is_kept_unevaluated(expression: str) -> None:
    parsed = parse(expression)
    assert parsed.predicate is None and parsed.matches(BLOG) is None and parsed.text == expression


def test_the_path_classes_a_rule_singles_out_are_named_as_globs() -> None:
    parsed = parse(
        'starts_with(http.request.uri.path, "/blog/") or http.request.uri.path eq "/feed.xml" '
        'or http.request.uri.path wildcard "/img/*" or http.request.uri.path contains "x"'
    )
    assert parsed.path_globs() == ["/blog/*", "/feed.xml", "/img/*"]
