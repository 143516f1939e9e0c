"""Values Cloudflare or the clouds would refuse, refused at plan time with the key path; contradictions between
the stack files of a project; logical names that would collide."""

from typing import Any

import pytest

from appcdn.rules.rulesets import ZoneRules, compile_zones
from tests.conftest import problems_of, project_of, raw_config, test_stage
from tooling.cloud_regions import TARGET, module_text


def _rule(**rule: Any) -> dict[str, Any]:
    return {"name": "r", "action": "cache", **rule}


# --- Cloudflare ------------------------------------------------------------------------------------------


def accepted(raw: dict[str, Any], *peers: dict[str, Any]) -> dict[str, ZoneRules]:
    """The config compiles without a problem."""
    return compile_zones(project_of(raw, *peers))


@pytest.mark.parametrize("plan, minimum", [("free", 7200), ("pro", 3600), ("business", 1), ("enterprise", 1)])
def test_browser_ttl_below_the_plans_minimum(plan: str, minimum: int) -> None:
    def browser(default: int) -> dict[str, Any]:
        ttl = {"mode": "override_origin", "default": default}
        return raw_config(plan=plan, cache={"rules": [_rule(browser_ttl=ttl)]})

    assert accepted(browser(minimum))
    if minimum > 1:
        assert problems_of(browser(minimum - 1)) == [
            f"sites[0].cache.rules[0].browser_ttl.default: {minimum - 1} s is below the {plan} plan's minimum "
            f"browser TTL of {minimum} s"
        ]


def test_ttls_above_a_year_are_refused() -> None:
    raw = raw_config(
        cache={
            "rules": [
                _rule(
                    edge_ttl={
                        "mode": "override_origin",
                        "default": 31536001,
                        "status_codes": [{"code": 404, "ttl": 40000000}],
                    }
                )
            ]
        }
    )
    assert problems_of(raw) == [
        "sites[0].cache.rules[0].edge_ttl.default: 31536001 should be <= 31536000",
        "sites[0].cache.rules[0].edge_ttl.status_codes[0].ttl: 40000000 should be <= 31536000",
    ]


def test_media_max_age_above_a_year_is_refused_where_the_edge_would_use_it() -> None:
    raw = raw_config(media={"backend": "aws", "headers": [{"match": "*", "cache_control": "max-age=99999999999"}]})
    assert problems_of(raw) == [
        "sites[0].media.headers[0].cache_control: max-age 99999999999 s is above the 31536000 s (one year) "
        "Cloudflare's cache rules take at the edge; use at most one year, or edge_ttl: respect_origin"
    ]


@pytest.mark.parametrize(
    "query_string, key",
    [({"include": ["page"]}, "include"), ({"exclude": ["utm"]}, "exclude"), ({"include": "*"}, "include")],
)
def test_query_string_lists_are_enterprise_only(query_string: dict[str, Any], key: str) -> None:
    raw = raw_config(plan="business", cache={"rules": [_rule(cache_key={"query_string": query_string})]})
    [problem] = problems_of(raw)
    assert problem.startswith(
        f"sites[0].cache.rules[0].cache_key.query_string.{key}: a cache key with chosen "
        "query-string parameters (include or exclude a list) needs the enterprise plan"
    )
    assert accepted(raw_config(plan="enterprise", cache={"rules": [_rule(cache_key={"query_string": query_string})]}))


@pytest.mark.parametrize("query_string", [{"include": []}, {"exclude": "*"}])
def test_ignoring_the_query_string_works_on_every_plan(query_string: dict[str, Any]) -> None:
    assert accepted(raw_config(plan="free", cache={"rules": [_rule(cache_key={"query_string": query_string})]}))


def test_a_raw_expression_over_4096_characters_is_refused_with_its_length() -> None:
    expression = " or ".join(f'http.request.uri.query contains "v{i:05d}"' for i in range(120))
    [problem] = problems_of(raw_config(cache={"rules": [_rule(match={"expression": expression})]}))
    assert problem.endswith(
        f"is {len(expression)} characters long; Cloudflare takes at most 4096 for a rule's whole expression"
    )


def test_a_compiled_expression_over_4096_characters_is_refused_with_its_count() -> None:
    prefixes = [f"/p{i:04d}/" for i in range(300)]
    assert problems_of(raw_config(cache={"rules": [_rule(action="bypass", match={"path_prefixes": prefixes})]})) == [
        "sites[0].cache.rules[0]: rule shop/live/r compiles to a Cloudflare expression of 14740 characters; "
        "Cloudflare takes at most 4096 for one rule: split it (fewer hosts, prefixes or paths per rule or per site)"
    ]


def test_path_criteria_that_can_never_both_hold() -> None:
    raw = raw_config(cache={"rules": [_rule(match={"path_prefixes": ["/static/"], "paths": ["/sitemap*.xml"]})]})
    assert problems_of(raw) == [
        "sites[0].cache.rules[0].match: can never match: no path both starts with '/static/' and matches "
        "'/sitemap*.xml'; the criteria are ANDed"
    ]


def test_a_value_another_of_its_criterion_covers_adds_nothing() -> None:
    raw = raw_config(
        cache={"rules": [_rule(match={"paths": ["/feed/*", "/feed/rss/*"], "path_prefixes": ["/feed/", "/feed/"]})]}
    )
    assert problems_of(raw) == [
        "sites[0].cache.rules[0].match.path_prefixes[1]: adds nothing: path_prefixes[0] ('/feed/') already matches "
        "every path this one does; remove one of them",
        "sites[0].cache.rules[0].match.paths[1]: adds nothing: paths[0] ('/feed/*') already matches every path this "
        "one does; remove one of them",
    ]


def test_a_cache_rule_a_later_one_covers_and_overrides_never_has_an_effect() -> None:
    raw = raw_config(
        cache={
            "rules": [
                _rule(
                    name="jpg",
                    match={"paths": ["/thumbs/*.jpg"]},
                    edge_ttl={"mode": "override_origin", "default": 7200},
                    responses_set_no_cookies=True,
                ),
                _rule(
                    name="images",
                    match={"paths": ["/*.jpg"]},
                    edge_ttl={"mode": "override_origin", "default": 3600},
                    responses_set_no_cookies=True,
                ),
                _rule(name="api", action="bypass", match={"path_prefixes": ["/api/"]}),
                _rule(name="api-cached", match={"path_prefixes": ["/api/v1/"]}, edge_ttl={"mode": "respect_origin"}),
            ]
        }
    )
    assert problems_of(raw) == [
        "sites[0].cache.rules[0]: never has an effect: rules[1] ('images') comes later, matches every request this "
        "one does and overrides all it sets; the last matching rule wins"
    ]


@pytest.mark.parametrize(
    "earlier, later",
    [
        ({"paths": ["/en/feed/*", "/*/feed"]}, {"path_segments": ["feed", "rss"]}),
        ({"path_prefixes": ["/News/"]}, {"path_segments": ["news"]}),
        ({"path_segments": ["feed"]}, {"path_segments": ["feed", "rss"]}),
        ({"query_args": ["page"]}, {"query_args": ["page", "p"]}),
        ({"query_args": ["page"], "path_segments": ["feed"]}, {"query_args": ["page"]}),
    ],
)
def test_a_later_rule_of_segments_or_query_arguments_that_covers_an_earlier_one(
    earlier: dict[str, list[str]], later: dict[str, list[str]]
) -> None:
    raw = raw_config(
        cache={
            "rules": [
                _rule(name="a", match=earlier, edge_ttl={"mode": "bypass_by_default"}),
                _rule(name="b", action="bypass", match=later),
            ]
        }
    )
    assert problems_of(raw) == [
        "sites[0].cache.rules[0]: never has an effect: rules[1] ('b') comes later, matches every request this one "
        "does and overrides all it sets; the last matching rule wins"
    ]


@pytest.mark.parametrize(
    "earlier, later",
    [
        ({}, {"path_segments": ["feed"]}),
        ({"path_prefixes": ["/en/feeds/"]}, {"path_segments": ["feed"]}),
        ({"paths": ["/*feed/*"]}, {"path_segments": ["feed"]}),
        ({"path_segments": ["feed"]}, {"path_prefixes": ["/feed/"]}),
        ({}, {"query_args": ["page"]}),
        ({"query_args": ["page", "p"]}, {"query_args": ["page"]}),
    ],
)
def test_a_later_rule_of_segments_or_query_arguments_that_covers_part_leaves_the_earlier_one(
    earlier: dict[str, list[str]], later: dict[str, list[str]]
) -> None:
    raw = raw_config(
        cache={
            "rules": [
                _rule(name="a", match=earlier, edge_ttl={"mode": "bypass_by_default"}),
                _rule(name="b", action="bypass", match=later),
            ]
        }
    )
    assert accepted(raw)


@pytest.mark.parametrize("stage", ["live", "test"])
def test_the_safety_bypasses_after_every_rule_make_no_user_rule_dead(stage: str) -> None:
    """They override every user rule where they match (on Test, everywhere): by design, not a dead rule."""
    rules = [
        _rule(name="all", responses_set_no_cookies=True, edge_ttl={"mode": "override_origin", "default": 7200}),
        _rule(name="admin-pages", match={"path_segments": ["admin"]}, edge_ttl={"mode": "bypass_by_default"}),
        _rule(name="posts", match={"methods": ["POST"]}, edge_ttl={"mode": "bypass_by_default"}),
        _rule(
            name="edit",
            match={"query_args": ["edit"], "cookies": ["sessionid"]},
            edge_ttl={"mode": "bypass_by_default"},
        ),
    ]
    if stage == "live":
        assert accepted(raw_config(cache={"rules": rules}))
    else:
        assert accepted(raw_config(), test_stage(cache={"rules": rules}))


@pytest.mark.parametrize(
    "earlier, later", [("*", "filer_public_thumbnails/*"), ("*.jpg", "thumbs/*.jpg"), ("**", "*"), ("a*", "a*b*")]
)
def test_media_header_rule_an_earlier_glob_covers_never_applies(earlier: str, later: str) -> None:
    raw = raw_config(
        media={
            "backend": "aws",
            "headers": [{"match": earlier, "cache_control": "no-store"}, {"match": later, "cache_control": "no-store"}],
        }
    )
    assert problems_of(raw) == [
        f"sites[0].media.headers[1].match: never applies: headers[0] ({earlier!r}) comes first and matches every key "
        "this one does; the first match wins, so put the narrower rule first"
    ]


# --- the clouds ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "bucket, reason",
    [
        ("192.168.5.4", "is formatted like an IP address"),
        ("my..bucket", "has two adjacent periods"),
        ("xn--bucket", "uses 'xn--', which S3 reserves"),
        ("media--ol-s3", "uses '--ol-s3', which S3 reserves"),
        ("shop.media", "has a '.', which breaks HTTPS"),
        ("ab", "is not an S3 bucket name"),
    ],
)
def test_bucket_names_s3_or_https_would_refuse(bucket: str, reason: str) -> None:
    [problem] = problems_of(raw_config(media={"backend": "aws", "aws": {"bucket_name": bucket}}))
    assert problem.startswith(f"sites[0].media.aws.bucket_name: {bucket!r} {reason}")


def test_regions_and_locations_come_from_the_provider_lists() -> None:
    raw = raw_config(
        media={"backend": "aws", "aws": {"region": "eu-centrl-1"}},
        certificates=[{"name": "c", "mode": "acm", "hosts": ["www.example.com"], "region": "useast-1"}],
    )
    assert problems_of(raw) == [
        "sites[0].certificates[0].region: 'useast-1' is not an AWS region (as the AWS provider SDK lists them) "
        "(did you mean 'us-east-1'?)",
        "sites[0].media.aws.region: 'eu-centrl-1' is not an AWS region (as the AWS provider SDK lists them) "
        "(did you mean 'eu-central-1'?)",
    ]
    raw = raw_config(
        media={"backend": "azure", "azure": {"account_name": "shop", "location": "westeruope", "resource_group": "rg."}}
    )
    assert problems_of(raw) == [
        "sites[0].media.azure.location: 'westeruope' is not an Azure location (such as westeurope) (did you mean "
        "'westeurope'?)",
        "sites[0].media.azure.resource_group: 'rg.' is not a resource group name (1-90 letters, digits, '_', '-', "
        "'.', '(' and ')', not ending in '.')",
    ]


def test_the_region_lists_are_the_provider_sdks_own() -> None:
    """appcdn/config/regions.py is plain data generated from pulumi_aws.Region (the config never imports an SDK)."""
    assert TARGET.read_text() == module_text(), "run: python -m tooling.cloud_regions --write"


# --- one site ---------------------------------------------------------------------------------------------


def test_a_host_pointing_at_itself() -> None:
    assert problems_of(raw_config(origin="www.example.com")) == [
        "sites[0].origin: 'www.example.com' is one of the site's own hosts: its record would point at itself; "
        "origin is where the app runs (e.g. shop.eu.aldryn.io)"
    ]


def test_duplicate_certificate_hosts() -> None:
    raw = raw_config(certificates=[{"name": "o", "mode": "origin_ca", "hosts": ["www.example.com", "www.example.com"]}])
    assert problems_of(raw) == ["sites[0].certificates[0].hosts: 'www.example.com' is listed more than once"]


def test_zones_whose_resource_names_collide() -> None:
    raw = raw_config()
    raw["zones"] = {
        "foo-bar.co.uk": {"id": "023e105f4ecef8ad9ca31a8372d0c353"},
        "foo.bar-co.uk": {"id": "0c1e2f3a4b5c6d7e8f901a2b3c4d5e6f"},
    }
    raw["sites"][0].update(zone="foo-bar.co.uk", hosts=["www.foo-bar.co.uk"])
    assert problems_of(raw) == [
        "zones.foo.bar-co.uk: zone foo.bar-co.uk would get the resource name 'foo-bar-co-uk', which zone "
        "foo-bar.co.uk (zones.foo-bar.co.uk) already has, and Pulumi cannot tell them apart; one stack file cannot "
        "declare both: declare one in another stack file of the project"
    ]


def test_sites_whose_record_names_collide() -> None:
    raw = raw_config(name="a", hosts=["b-live-x.example.com"])
    raw["sites"].append({"name": "a-live-b", "zone": "example.com", "hosts": ["x.example.com"]})
    assert problems_of(raw) == [
        "sites[1].hosts: site a-live-b's hosts would get the resource name 'a-live-b-live-x.example.com', which site "
        "a's hosts (sites[0].hosts) already has, and Pulumi cannot tell them apart; rename one of the sites (names "
        "join site, stage and host with '-')"
    ]


# --- two stack files ---------------------------------------------------------------------------------------


def test_a_stage_that_is_not_its_files_stack_name() -> None:
    from appcdn.config.problems import ConfigError
    from appcdn.config.project import StackSource, load_project

    with pytest.raises(ConfigError) as err:
        load_project(
            StackSource("live", raw_config()),
            [StackSource("test", test_stage() | {"stage": "live"}, (), "Pulumi.test.yaml")],
        )
    assert [str(p) for p in err.value.problems] == [
        "Pulumi.test.yaml: stage: is 'live' in the test stack's own file: a stack named like a stage is that stage; "
        "remove appcdn:stage or write test"
    ]


def test_two_files_naming_one_bucket_or_account() -> None:
    live = raw_config(media={"backend": "aws", "aws": {"bucket_name": "shop-media"}})
    test = test_stage(media={"backend": "aws", "aws": {"bucket_name": "shop-media"}})
    assert problems_of(live, test) == [
        "Pulumi.own.yaml: sites[0].media.aws.bucket_name: 'shop-media' is also the storage of site shop (test, "
        "Pulumi.test.yaml); each site and stage needs its own"
    ]
    live = raw_config(media={"backend": "azure", "azure": {"account_name": "shopmedia"}})
    test = test_stage(media={"backend": "azure", "azure": {"account_name": "shopmedia"}})
    assert problems_of(live, test)[0].startswith(
        "Pulumi.own.yaml: sites[0].media.azure.account_name: 'shopmedia' "
        "is also the storage of site shop (test, Pulumi.test.yaml)"
    )


def test_settings_of_the_other_backend_are_refused_not_ignored() -> None:
    problems = problems_of(
        raw_config(media={"backend": "azure", "azure": {"account_name": "shopmedia"}, "aws": {"batch_operations": {}}})
    )
    assert any(
        p.startswith("sites[0].media.aws: settings for the aws backend, but this site's media is on azure")
        for p in problems
    ), problems


def test_bad_batch_operations_values_are_refused_with_their_key_paths() -> None:
    problems = problems_of(
        raw_config(
            media={
                "backend": "aws",
                "aws": {"batch_operations": {"inventory_frequency": "Monthly", "rerun": -1, "priority": 5}},
            }
        )
    )
    path = "sites[0].media.aws.batch_operations"
    assert any(p.startswith(f"{path}.inventory_frequency: ") and "Daily" in p and "Weekly" in p for p in problems)
    assert any(p.startswith(f"{path}.rerun: ") for p in problems), problems
    assert any(p.startswith(f"{path}.priority: ") for p in problems), problems
