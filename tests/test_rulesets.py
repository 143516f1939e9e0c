"""The policy compiler: stage defaults, order, merging, the API form, limits and determinism."""

import json
from typing import Any

import octorules_wirefilter
import pytest

from appcdn.config.cache import Match
from appcdn.config.fields import MAX_EXPRESSION_LENGTH
from appcdn.config.problems import ConfigError
from appcdn.config.project import parse_stack_config
from appcdn.defaults import STATIC_EDGE_TTL
from appcdn.rules.expressions import Request
from appcdn.rules.rulesets import (
    CompiledRule,
    Scope,
    ZoneRules,
    apply_rules,
    compile_zones,
    merge_rules,
    zone_cache_rules,
)
from appcdn.rules.zone_settings import zone_settings
from tests.conftest import compiled, project_of, raw_config, test_stage


def zone_rules(raw: dict[str, Any], *peers: dict[str, Any]) -> ZoneRules:
    return compiled(raw, *peers)["example.com"]


def outcome(raw: dict[str, Any], request: Request) -> dict[str, Any]:
    return apply_rules(zone_rules(raw).cache, request)


WWW = "www.example.com"


def test_live_default_caches_what_django_marks_cacheable() -> None:
    assert outcome(raw_config(), Request(WWW, "/en/about/")) == {
        "cache": True,
        "edge_ttl": {"mode": "bypass_by_default"},
        "browser_ttl": {"mode": "respect_origin"},
        "cache_key": {"cache_deception_armor": True},
    }


def test_live_default_caches_static_files_for_30_days() -> None:
    settings = outcome(raw_config(), Request(WWW, "/static/css/site.css"))
    assert settings["cache"] is True
    assert (
        settings["edge_ttl"]
        == {"mode": "override_origin", "default": STATIC_EDGE_TTL}
        == {"mode": "override_origin", "default": 2592000}
    )


def test_live_default_never_caches_the_admin() -> None:
    assert outcome(raw_config(), Request(WWW, "/admin/login/"))["cache"] is False


def test_test_stage_default_caches_nothing_on_app_hosts() -> None:
    rules = zone_rules(raw_config(), test_stage()).cache
    for path in ("/", "/static/site.css", "/admin/"):
        assert apply_rules(rules, Request("test.example.com", path))["cache"] is False


@pytest.mark.parametrize(
    "request_",
    [
        Request(WWW, "/static/site.css", cookies=frozenset(["sessionid"])),
        Request(WWW, "/en/", headers=frozenset(["Authorization"])),
    ],
)
def test_session_bypass_comes_last_on_every_stage(request_: Request) -> None:
    raw = raw_config(
        cache={
            "rules": [
                {
                    "name": "all",
                    "action": "cache",
                    "responses_set_no_cookies": True,
                    "edge_ttl": {"mode": "override_origin", "default": 86400},
                }
            ]
        }
    )
    assert outcome(raw, request_)["cache"] is False
    assert {"shop/live/session", "shop/live/authorization"} <= set(zone_rules(raw).cache[-1].names)


@pytest.mark.parametrize(
    "request_",
    [
        Request(WWW, "/admin"),
        Request(WWW, "/en/admin/blog/feed/"),
        Request(WWW, "/ADMIN/"),
        Request(WWW, "//admin/"),
        Request(WWW, "/en/", query_args=frozenset(["edit"])),
        Request(WWW, "/en/", query_args=frozenset(["toolbar_off"])),
        Request(WWW, "/en/cms_wizard/create/"),
        Request(WWW, "/en/", method="POST"),
        Request(WWW, "/en/", cookies=frozenset(["a", "sessionid "])),
        Request(WWW, "/en/", headers_truncated=True),
        Request("WWW.EXAMPLE.COM", "/static/a.css", cookies=frozenset(["sessionid"])),
    ],
)
def test_safety_bypasses_win_over_any_user_rule(request_: Request) -> None:
    raw = raw_config(
        cache={
            "rules": [
                {
                    "name": "feeds",
                    "action": "cache",
                    "match": {"paths": ["/*"]},
                    "responses_set_no_cookies": True,
                    "edge_ttl": {"mode": "override_origin", "default": 86400},
                }
            ]
        }
    )
    assert outcome(raw, request_)["cache"] is False


def test_user_rule_of_a_default_name_replaces_the_default_in_place() -> None:
    raw = raw_config(
        cache={
            "rules": [
                {
                    "name": "static",
                    "action": "cache",
                    "match": {"path_prefixes": ["/static/"]},
                    "edge_ttl": {"mode": "override_origin", "default": 31536000},
                }
            ]
        }
    )
    assert outcome(raw, Request(WWW, "/static/a.css"))["edge_ttl"]["default"] == 31536000
    assert [r.ref for r in zone_rules(raw).cache] == ["shop-live-app", "shop-live-static", "shop-live-admin"]


def test_stage_defaults_can_be_switched_off() -> None:
    raw = raw_config(cache={"stage_defaults": False})
    assert outcome(raw, Request(WWW, "/")) == {}
    assert [r.ref for r in zone_rules(raw).cache] == ["shop-live-admin"]  # the safety bypasses, merged


def test_later_rules_override_earlier_ones() -> None:
    raw = raw_config(
        cache={
            "rules": [
                {
                    "name": "media",
                    "action": "cache",
                    "match": {"path_prefixes": ["/media/"]},
                    "responses_set_no_cookies": True,
                    "edge_ttl": {"mode": "override_origin", "default": 86400},
                },
                {"name": "private", "action": "bypass", "match": {"path_prefixes": ["/media/private/"]}},
            ]
        }
    )
    assert outcome(raw, Request(WWW, "/media/a.jpg"))["cache"] is True
    assert outcome(raw, Request(WWW, "/media/private/a.pdf"))["cache"] is False


def test_rules_with_the_same_settings_are_merged() -> None:
    raw = raw_config(cache={"rules": [{"name": "api", "action": "bypass", "match": {"path_prefixes": ["/api/"]}}]})
    refs = [r.ref for r in zone_rules(raw).cache]
    assert refs == ["shop-live-app", "shop-live-static", "shop-live-api"]
    admin = zone_rules(raw).cache[2]
    assert admin.names == (
        "shop/live/api",
        "shop/live/admin",
        "shop/live/cms-edit",
        "shop/live/cms-wizard",
        "shop/live/methods",
        "shop/live/session",
        "shop/live/authorization",
    )
    host = 'lower(http.host) eq "www.example.com"'
    assert admin.expression == (
        f'({host} and starts_with(http.request.uri.path, "/api/")) or '
        f'({host} and (lower(http.request.uri.path) contains "/admin/" or '
        'ends_with(lower(http.request.uri.path), "/admin"))) or '
        f"({host} and any(url_decode(http.request.uri.args.names[*])[*] in "
        '{"edit" "preview" "structure" "toolbar_off"})) or '
        f'({host} and (lower(http.request.uri.path) contains "/cms_wizard/" or '
        'ends_with(lower(http.request.uri.path), "/cms_wizard"))) or '
        f'({host} and http.request.method in {{"DELETE" "OPTIONS" "PATCH" "POST" "PUT"}}) or '
        f'({host} and http.cookie contains "sessionid") or '
        f'({host} and (has_key(http.request.headers, "authorization") or '
        "http.request.headers.truncated))"
    )


def test_a_rule_is_not_moved_past_a_rule_it_conflicts_with() -> None:
    # media-bypass cannot join admin (earlier) without jumping over media-cache, which it must beat.
    raw = raw_config(
        cache={
            "rules": [
                {"name": "media", "action": "cache", "match": {"path_prefixes": ["/media/"]}},
                {"name": "media-private", "action": "bypass", "match": {"path_prefixes": ["/media/private/"]}},
            ]
        }
    )
    refs = [r.ref for r in zone_rules(raw).cache]
    assert refs.index("shop-live-media-private") > refs.index("shop-live-media")


def _rule(ref: str, host: str, cache: bool) -> CompiledRule:
    return CompiledRule(ref, (ref,), "set_cache_settings", (("cache", cache),), (Scope((host,), Match()),))


def test_a_rule_moves_past_rules_of_other_hosts() -> None:
    merged = merge_rules(
        [_rule("a", "a.example.com", False), _rule("b", "b.example.com", True), _rule("c", "c.example.com", False)]
    )
    assert [r.names for r in merged] == [("a", "c"), ("b",)]


def test_a_rule_stays_behind_a_conflicting_rule_of_the_same_host() -> None:
    merged = merge_rules(
        [_rule("a", "a.example.com", False), _rule("b", "a.example.com", True), _rule("c", "a.example.com", False)]
    )
    assert [r.names for r in merged] == [("a",), ("b",), ("c",)]


def _scoped(i: int) -> CompiledRule:
    """Rule ``i`` of many with the same settings: hosts of varied length, some shared with earlier rules, some
    scopes host-only (which drop those hosts from the rule's other parts), some with one of two criteria."""
    hosts = (f"site{i}.{'long-' * (i % 5)}label-of-a-customer-project.example.com", f"site{i // 4}.example.com")
    match = [Match(), Match(path_prefixes=["/api/"]), Match(path_segments=["admin"])][i % 3]
    return CompiledRule(f"r{i}", (f"r{i}",), "set_cache_settings", (("cache", False),), (Scope(hosts, match),))


def test_a_rule_joins_the_first_merged_rule_it_fits_in_and_none_grows_past_cloudflares_limit() -> None:
    rules = [_scoped(i) for i in range(150)]
    before: list[CompiledRule] = []
    for i, rule in enumerate(rules):
        after = merge_rules(rules[: i + 1])
        assert all(len(r.expression) <= MAX_EXPRESSION_LENGTH for r in after)
        joined = next(k for k, r in enumerate(after) if rule.names[0] in r.names)
        for earlier in before[:joined]:  # it fits in none of the rules it passed over, as they were then
            grown = CompiledRule(
                earlier.ref, earlier.names, earlier.action, earlier.settings, earlier.scopes + rule.scopes
            )
            assert len(grown.expression) > MAX_EXPRESSION_LENGTH
        before = after
    assert len(before) >= 3  # the test filled rules to the limit more than once


@pytest.mark.parametrize("match", [Match(), Match(path_prefixes=["/api/"])], ids=["host only", "with criteria"])
@pytest.mark.parametrize(
    ("first_also", "second"),
    [((), ("a.example.com", "b.example.com")), (("b.example.com",), ("a.example.com",))],
    ids=["one host, then two", "two hosts, then one"],  # the second adds the least a new host can: it and a space
)
def test_a_rule_joins_when_the_joined_expression_is_exactly_cloudflares_limit_and_not_one_character_more(
    match: Match, first_also: tuple[str, ...], second: tuple[str, ...]
) -> None:
    def pair(label: int) -> list[CompiledRule]:
        hosts = [("x" * label + ".example.com", *first_also), second]
        return [
            CompiledRule(f"r{i}", (f"r{i}",), "set_cache_settings", (("cache", False),), (Scope(h, match),))
            for i, h in enumerate(hosts)
        ]

    def joined_length(label: int) -> int:
        first, second = pair(label)
        return len(CompiledRule("j", ("j",), first.action, first.settings, first.scopes + second.scopes).expression)

    label = MAX_EXPRESSION_LENGTH - joined_length(0)
    assert joined_length(label) == MAX_EXPRESSION_LENGTH
    assert [r.names for r in merge_rules(pair(label))] == [("r0", "r1")]
    assert [r.names for r in merge_rules(pair(label + 1))] == [("r0",), ("r1",)]


def test_a_rule_of_hosts_a_rule_at_cloudflares_limit_names_already_joins_it() -> None:
    """It adds nothing to the expression, so it fits however full that rule is."""
    label = MAX_EXPRESSION_LENGTH - len('lower(http.host) in {".example.com" "a.example.com"}')
    first = (f"{'x' * label}.example.com", "a.example.com")
    rules = [
        CompiledRule(f"r{i}", (f"r{i}",), "set_cache_settings", (("cache", False),), (Scope(hosts, Match()),))
        for i, hosts in enumerate([first, ("a.example.com",)])
    ]
    assert len(rules[0].expression) == MAX_EXPRESSION_LENGTH
    assert [r.names for r in merge_rules(rules)] == [("r0", "r1")]


def test_scopes_that_differ_only_in_hosts_share_one_host_test() -> None:
    raw = raw_config()
    raw["sites"].append({"name": "blog", "zone": "example.com", "hosts": ["blog.example.com"]})
    test = test_stage()
    test["sites"].append({"name": "blog", "zone": "example.com", "hosts": ["blog-test.example.com"]})
    first = zone_rules(raw, test).cache[0]
    assert first.ref == "shop-test-admin"  # Test's safety bypasses and its final bypass of everything, merged
    assert first.expression == 'lower(http.host) in {"blog-test.example.com" "test.example.com"}'


def test_api_form_sorts_lists_and_omits_unset_settings() -> None:
    raw = raw_config(
        plan="enterprise",
        cache={
            "rules": [
                {
                    "name": "feeds",
                    "action": "cache",
                    "match": {"paths": ["/feed/*"]},
                    "responses_set_no_cookies": True,
                    "edge_ttl": {
                        "mode": "override_origin",
                        "default": 3600,
                        "status_codes": [{"from": 500, "to": 599, "ttl": -1}, {"code": 404, "ttl": 0}],
                    },
                    "cache_key": {"query_string": {"include": ["page", "lang", "page"]}, "ignore_query_order": True},
                }
            ]
        },
    )
    rule = next(r for r in zone_rules(raw).cache if r.ref == "shop-live-feeds").to_rule()
    assert rule == {
        "ref": "shop-live-feeds",
        "description": "appcdn: shop/live/feeds",
        "expression": 'lower(http.host) eq "www.example.com" and http.request.uri.path strict wildcard "/feed/*"',
        "action": "set_cache_settings",
        "action_parameters": {
            "cache": True,
            "cache_key": {
                "custom_key": {"query_string": {"include": {"lists": ["lang", "page"]}}},
                "ignore_query_strings_order": True,
            },
            "edge_ttl": {
                "mode": "override_origin",
                "default": 3600,
                "status_code_ttls": [
                    {"status_code": 404, "value": 0},
                    {"status_code_range": {"from_": 500, "to": 599}, "value": -1},
                ],
            },
        },
        "enabled": True,
    }


def test_stale_content_error_pages_and_strong_etags_in_the_api_form() -> None:
    raw = raw_config(
        cache={
            "rules": [
                {
                    "name": "pages",
                    "action": "cache",
                    "serve_stale": False,
                    "origin_error_passthrough": True,
                    "respect_strong_etags": True,
                }
            ]
        }
    )
    rule = next(r for r in zone_rules(raw).cache if r.ref == "shop-live-pages")
    assert rule.to_rule()["action_parameters"] == {
        "cache": True,
        "serve_stale": {"disable_stale_while_updating": True},
        "origin_error_page_passthru": True,
        "respect_strong_etags": True,
    }


def test_including_no_query_string_is_written_as_excluding_all() -> None:
    raw = raw_config(
        cache={"rules": [{"name": "q", "action": "cache", "cache_key": {"query_string": {"include": []}}}]}
    )
    rule = next(r for r in zone_rules(raw).cache if r.ref == "shop-live-q")
    assert dict(rule.settings)["cache_key"] == {"custom_key": {"query_string": {"exclude": {"all": True}}}}


def test_every_emitted_expression_parses_with_wirefilter() -> None:
    raw = raw_config(images=[{"name": "photos", "match": {"path_prefixes": ["/media/photos/"]}, "polish": "lossy"}])
    zone = zone_rules(raw, test_stage())
    for rule in zone.cache + zone.config:
        assert "error" not in octorules_wirefilter.parse_expression(rule.expression)


def test_image_rules_become_configuration_rules() -> None:
    raw = raw_config(images=[{"name": "photos", "match": {"path_prefixes": ["/media/photos/"]}, "polish": "lossy"}])
    [rule] = zone_rules(raw).config
    assert rule.to_rule()["action"] == "set_config"
    assert rule.to_rule()["action_parameters"] == {"polish": "lossy"}


def test_too_many_rules_for_the_plan_fail_naming_the_zone_and_limit() -> None:
    rules = [
        {
            "name": f"r{i}",
            "action": "cache",
            "match": {"path_prefixes": [f"/p{i}/"]},
            "responses_set_no_cookies": True,
            "edge_ttl": {"mode": "override_origin", "default": 7200 + i},
        }
        for i in range(8)
    ]
    raw = raw_config(plan="free", cache={"rules": rules})
    with pytest.raises(ConfigError) as err:
        zone_rules(raw)
    [problem] = err.value.problems
    assert problem.path == "zones.example.com.plan"
    assert "compile to 11 rules after merging; the free plan allows 10" in problem.message
    assert "cache and media of every stage's sites on it" in problem.message


def test_a_stack_that_does_not_own_the_zone_compiles_the_owners_rules_for_it() -> None:
    test = project_of(test_stage(), raw_config())
    assert not test.owns("example.com")
    assert compile_zones(test) == compile_zones(project_of(raw_config(), test_stage()))


def test_same_config_gives_byte_identical_rules() -> None:
    raw = raw_config(
        plan="enterprise",
        cache={
            "rules": [
                {
                    "name": "f",
                    "action": "cache",
                    "match": {"paths": ["/b/*", "/a/*"]},
                    "cache_key": {"query_string": {"exclude": ["z", "a"]}},
                }
            ]
        },
    )
    dumps = {json.dumps([r.to_rule() for r in zone_rules(raw, test_stage()).cache]) for _ in range(3)}
    assert len(dumps) == 1


def test_zone_settings_baseline_and_polish_only_on_paid_plans() -> None:
    pro = parse_stack_config(raw_config(), "live").zones["example.com"]
    assert zone_settings(pro) == {
        "ssl": "strict",
        "min_tls_version": "1.2",
        "tls_1_3": "on",
        "always_use_https": "on",
        "automatic_https_rewrites": "on",
        "http3": "on",
        "polish": "off",
        "webp": "off",
    }
    free = parse_stack_config(raw_config(plan="free"), "live").zones["example.com"]
    assert "polish" not in zone_settings(free) and "webp" not in zone_settings(free)


def test_zone_cache_rules_compose_every_stage_from_its_own_stack_file() -> None:
    project = project_of(raw_config(), test_stage())
    names = [n for r in zone_cache_rules(project, "example.com") for n in r.names]
    assert names[:7] == [
        "shop/test/admin",
        "shop/test/cms-edit",
        "shop/test/cms-wizard",
        "shop/test/methods",
        "shop/test/session",
        "shop/test/authorization",
        "shop/test/test-stage",
    ]
    assert "shop/live/static" in names
