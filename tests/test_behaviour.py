"""The plan's cache-behaviour table: every request to every host of a site, split exactly where the compiled
rules (in Cloudflare's order) give a different outcome; each row says what it covers.

The first tests are the cases an independent evaluator found the old one-probe-per-row table wrong on."""

from typing import Any

import pytest

from appcdn.behaviour.outcome import Outcome, duration
from appcdn.behaviour.table import BehaviourRow, behaviour_rows, rule_counts
from appcdn.commands.plan.table_text import rule_count_lines, shown_terms, table
from appcdn.rules.expressions import Request
from appcdn.rules.rulesets import compile_zones
from tests.conftest import project_of, raw_config, test_stage

WWW, APEX = "www.example.com", "example.com"
DAY = {"mode": "override_origin", "default": 86400}


def rows_of(raw: dict[str, Any], *peers: dict[str, Any]) -> list[BehaviourRow]:
    project = project_of(raw, *peers)
    return behaviour_rows(project, compile_zones(project))


def row_for(rows: list[BehaviourRow], host: str, path: str = "/", **request: Any) -> BehaviourRow:
    """The one row that covers the request."""
    [row] = [r for r in rows if r.matches(Request(host, path, **request))]
    return row


def own_rules(*rules: dict[str, Any], hosts: tuple[str, ...] = (WWW,), **site: Any) -> dict[str, Any]:
    """A Live site with only ``rules`` (no stage defaults) before the safety bypasses."""
    return raw_config(hosts=list(hosts), cache={"stage_defaults": False, "rules": list(rules)}, **site)


def test_every_host_of_a_row_is_evaluated_not_only_the_first() -> None:
    rows = rows_of(
        own_rules(
            {"name": "css", "match": {"extensions": ["css"]}, "action": "cache", "edge_ttl": DAY},
            {"name": "www-css", "match": {"hosts": [WWW], "extensions": ["css"]}, "action": "bypass"},
            hosts=(WWW, APEX),
        )
    )
    assert row_for(rows, WWW, "/x.css").outcome.cache == "bypassed"
    apex = row_for(rows, APEX, "/x.css")
    assert (apex.outcome.cache, apex.outcome.edge_ttl) == ("cached", "1d")
    assert apex.hosts == (APEX,)  # the hosts column lists only the hosts a row applies to


def test_every_prefix_of_a_rule_is_evaluated_not_only_the_first() -> None:
    rows = rows_of(
        own_rules(
            {
                "name": "ab",
                "match": {"path_prefixes": ["/a/", "/b/"]},
                "action": "cache",
                "edge_ttl": DAY,
                "responses_set_no_cookies": True,
            },
            {"name": "a", "match": {"path_prefixes": ["/a/"]}, "action": "bypass"},
        )
    )
    assert row_for(rows, WWW, "/a/x").outcome.cache == "bypassed"
    b = row_for(rows, WWW, "/b/x")
    assert b.outcome.cache == "cached" and b.requests.startswith("/b/*")


def test_polish_of_every_prefix_is_evaluated() -> None:
    raw = own_rules(
        {"name": "all", "action": "cache"},
        images=[
            {"name": "ab", "match": {"path_prefixes": ["/a/", "/b/"]}, "polish": "lossy"},
            {"name": "a", "match": {"path_prefixes": ["/a/"]}, "polish": "lossless"},
        ],
    )
    rows = rows_of(raw)
    assert [row_for(rows, WWW, p).outcome.polish for p in ("/a/x.jpg", "/b/x.jpg", "/c.jpg")] == [
        "lossless",
        "lossy",
        "off",
    ]


def test_methods_other_than_get_and_head_are_never_cached_whatever_a_rule_says() -> None:
    rows = rows_of(own_rules({"name": "post", "match": {"methods": ["POST"]}, "action": "cache"}))
    assert not [r for r in rows if r.outcome.cache == "cached"]
    assert row_for(rows, WWW, method="POST").outcome.cache == "bypassed"
    assert row_for(rows, WWW, method="PROPFIND").outcome.cache == "bypassed"


def test_head_is_cached_as_get_but_a_rule_limited_to_get_does_not_match_it() -> None:
    rows = rows_of(
        own_rules(
            {"name": "all", "action": "cache"},
            {
                "name": "get",
                "match": {"methods": ["GET"]},
                "action": "cache",
                "edge_ttl": DAY,
                "responses_set_no_cookies": True,
            },
        )
    )
    assert row_for(rows, WWW, method="GET").outcome.edge_ttl == "1d"
    head = row_for(rows, WWW, method="HEAD").outcome
    assert (head.cache, head.edge_ttl) == ("cached", "origin, else Cloudflare defaults")


def test_without_a_browser_ttl_rule_the_zones_browser_cache_ttl_applies() -> None:
    rows = rows_of(own_rules({"name": "all", "action": "cache"}))
    assert row_for(rows, WWW).outcome.browser_ttl == "zone setting (4h default)"
    origin = rows_of(own_rules({"name": "all", "action": "cache", "browser_ttl": {"mode": "respect_origin"}}))
    assert row_for(origin, WWW).outcome.browser_ttl == "origin"


def test_a_bypass_row_is_qualified_where_a_later_rule_overrides_it() -> None:
    rows = rows_of(
        own_rules(
            {"name": "preview", "match": {"cookies": ["preview"]}, "action": "bypass"},
            {
                "name": "xml",
                "match": {"extensions": ["xml"]},
                "action": "cache",
                "edge_ttl": DAY,
                "responses_set_no_cookies": True,
            },
        )
    )
    rss = row_for(rows, WWW, "/rss.xml", cookies=frozenset(["preview"]))
    assert (rss.outcome.cache, rss.outcome.edge_ttl) == ("cached", "1d")
    preview = row_for(rows, WWW, "/page/", cookies=frozenset(["preview"]))
    assert preview.outcome.cache == "bypassed"
    assert 'Cookie contains "preview", not *.xml' in preview.requests


def test_a_rule_with_prefixes_and_globs_covers_their_intersection() -> None:
    rows = rows_of(
        own_rules(
            {"name": "all", "action": "cache"},
            {
                "name": "blog-html",
                "match": {"path_prefixes": ["/blog/"], "paths": ["/*.html"]},
                "action": "cache",
                "edge_ttl": DAY,
                "responses_set_no_cookies": True,
            },
        )
    )
    assert row_for(rows, WWW, "/blog/a.html").outcome.edge_ttl == "1d"
    assert row_for(rows, WWW, "/blog/a").outcome.edge_ttl == "origin, else Cloudflare defaults"
    assert row_for(rows, WWW, "/a.html").outcome.edge_ttl == "origin, else Cloudflare defaults"
    assert "/blog/*, /*.html" in row_for(rows, WWW, "/blog/a.html").requests


def test_rules_whose_globs_overlap_in_many_ways_get_an_exact_table() -> None:
    """Five rules of two many-star globs each: their automata's product has far more states than any plan could
    enumerate (main stopped at 200 000 with a RuntimeError); each question the table asks is decided alone."""
    rules = [
        {
            "name": f"r{i}",
            "match": {"paths": [f"/*/x{i}*/*.e{i}", f"/*/y{i}/*"]},
            "action": "cache",
            "edge_ttl": {"mode": "override_origin", "default": 3600 * (i + 1)},
            "responses_set_no_cookies": True,
        }
        for i in range(5)
    ]
    rows = rows_of(own_rules(*rules, plan="business"))
    # The last matching rule wins: a path in both r1's and r3's globs gets r3's TTL, one in none of them none.
    assert row_for(rows, WWW, "/a/x1/y3/b.e1").outcome.edge_ttl == "4h"
    assert row_for(rows, WWW, "/a/x1/y3/b.e1/").outcome.edge_ttl == "4h"
    assert row_for(rows, WWW, "/a/x1/b.e1").outcome.edge_ttl == "2h"
    assert row_for(rows, WWW, "/a/x1/b.e2").outcome.edge_ttl == "origin, else Cloudflare defaults"
    assert row_for(rows, WWW, "/y4/b").outcome.cache == "Cloudflare default (static extensions)"  # /*/ needs two
    for row in rows:
        assert row.matches(row.example)


def test_cache_key_status_code_ttls_and_serve_stale_are_shown() -> None:
    rows = rows_of(
        own_rules(
            {
                "name": "feeds",
                "match": {"path_prefixes": ["/feed/"]},
                "action": "cache",
                "responses_set_no_cookies": True,
                "serve_stale": False,
                "edge_ttl": {
                    "mode": "override_origin",
                    "default": 3600,
                    "status_codes": [{"code": 404, "ttl": 0}, {"from": 500, "to": 599, "ttl": -1}],
                },
                "cache_key": {"query_string": {"exclude": "*"}, "ignore_query_order": True},
            }
        )
    )
    feed = row_for(rows, WWW, "/feed/").outcome
    assert (feed.cache_key, feed.status_ttls, feed.serve_stale) == (
        "query: none, query sorted",
        "404: no-cache, 500-599: no-store",
        "off",
    )


def test_the_rule_count_is_shown_against_the_plans_limit() -> None:
    project = project_of(raw_config(media={"backend": "aws", "domain": {"host": "media.example.com"}}))
    counts = rule_counts(project, compile_zones(project))
    assert [(c.phase, c.limit) for c in counts] == [
        ("cache rules", 25),
        ("configuration rules", 25),
        ("Cloud Connector rules", 25),
    ]
    assert counts[2].count == 1
    assert rule_count_lines(counts) == [
        f"  zone example.com (pro plan): cache rules {counts[0].count} of 25, configuration rules 0 of 25, "
        "Cloud Connector rules 1 of 25"
    ]


@pytest.mark.parametrize("seconds,text", [(31536000, "365d"), (7200, "2h"), (600, "10min"), (90, "90s")])
def test_durations_read_in_the_largest_whole_unit(seconds: int, text: str) -> None:
    assert duration(seconds) == text


def test_live_defaults_bypass_the_safety_classes_and_cache_the_rest() -> None:
    rows = rows_of(raw_config())
    bypassed = Outcome("bypassed")
    for request in (
        Request(WWW, "/en/Admin/"),
        Request(WWW, "/x/", query_args=frozenset(["edit"])),
        Request(WWW, "/", cookies=frozenset(["sessionid"])),
        Request(WWW, "/", method="POST"),
        Request(WWW, "/", headers=frozenset(["Authorization"])),
        Request(WWW, "/", headers_truncated=True),
    ):
        assert (
            row_for(
                rows,
                request.host,
                request.path,
                method=request.method,
                cookies=request.cookies,
                headers=request.headers,
                headers_truncated=request.headers_truncated,
                query_args=request.query_args,
            ).outcome
            == bypassed
        )
    static = row_for(rows, WWW, "/static/app.css").outcome
    assert (static.cache, static.edge_ttl, static.browser_ttl, static.cache_key) == (
        "cached",
        "30d",
        "origin",
        "deception armor",
    )  # the app rule's armor reaches /static/ too
    assert row_for(rows, WWW, "/page/").outcome.edge_ttl == "origin, else bypass"


def test_each_row_names_an_example_request_it_covers() -> None:
    rows = rows_of(raw_config(media={"backend": "aws", "domain": {"host": "media.example.com"}}))
    assert all(row.matches(row.example) for row in rows)
    assert {row.as_json()["example"] for row in rows} >= {
        "GET www.example.com/static/",
        "POST media.example.com/",
        "GET media.example.com/filer_public_thumbnails/",
    }


def test_the_text_reads_each_row_after_the_ones_above_it() -> None:
    rows = rows_of(raw_config())
    lines = table(rows)
    assert lines[0].split()[:4] == ["site", "stage", "hosts", "requests"]
    rest = next(
        line
        for line in lines
        if line.split()[:3] == ["shop", "live", "www.example.com"] and "origin, else bypass" in line
    )
    assert "not /static/*" in rest and 'Cookie lacks "sessionid"' not in rest  # said by the bypass row above
    assert list(shown_terms(rows)) != [r.covers for r in rows]


def test_the_owner_shows_every_stage_and_the_other_stack_only_its_own() -> None:
    owner = rows_of(raw_config(), test_stage())
    assert {r.stage for r in owner} == {"live", "test"}
    assert row_for(owner, "test.example.com", "/static/x.css").outcome == Outcome("bypassed")
    other = rows_of(test_stage(), raw_config())
    assert {r.stage for r in other} == {"test"}
    assert other == [r for r in owner if r.stage == "test"]


def test_media_domain_rows_follow_the_header_rules() -> None:
    rows = rows_of(raw_config(media={"backend": "aws", "domain": {"host": "media.example.com"}}))
    thumbnail = row_for(rows, "media.example.com", "/filer_public_thumbnails/a.jpg").outcome
    assert (thumbnail.edge_ttl, thumbnail.browser_ttl) == ("365d", "365d")
    assert row_for(rows, "media.example.com", "/filer_public/doc.pdf").outcome.edge_ttl == "1h"
    assert {r.hosts for r in rows} == {(WWW,), ("media.example.com",)}
