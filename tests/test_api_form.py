"""A second preview shows no change: every rule shape we emit, held against the API's documented form.

Each case pairs a documented API example (``tests/fixtures/cloudflare_api``, sources in its README) with the
neutral rule that means the same. What the provider keeps after reading the API's answer
(``appcdn.rules.api_form.provider_read``) must equal what we send, key for key and in order, or the next
preview would show a diff. The cases together must cover every key path the compiler can emit.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest

from appcdn.config.cache import CacheRule
from appcdn.config.media import MediaConfig
from appcdn.rules.api_form import SERVER_FIELDS, action_settings, provider_read, to_api
from appcdn.rules.cache_rules import cache_settings
from appcdn.rules.media import connector_rule
from appcdn.rules.rulesets import zone_cache_rules, zone_config_rules
from tests.conftest import project_of, raw_config

FIXTURES = Path(__file__).parent / "fixtures" / "cloudflare_api"
NOT_IN_OUR_CONFIG = ("header", "cookie", "user", "host")
"""Custom cache-key parts the config cannot express; left out of the comparison where a docs example has them."""


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def documented_rule(ref: str, name: str = "cache_rules_entrypoint.json") -> dict[str, Any]:
    return next(r for r in fixture(name)["result"]["rules"] if r["ref"] == ref)


CASES: list[tuple[str, dict[str, Any], tuple[str, ...]]] = [
    ("bypass", {"action": "bypass"}, ()),
    ("turn_off_default_ttls", {"action": "cache", "edge_ttl": {"mode": "bypass_by_default"}}, ()),
    ("browser_ttl", {"action": "cache", "browser_ttl": {"mode": "override_origin", "default": 1000}}, ()),
    (
        "ttl_by_status",
        {
            "action": "cache",
            "edge_ttl": {
                "mode": "respect_origin",
                "status_codes": [
                    {"to": 299, "ttl": 86400},
                    {"from": 300, "to": 499, "ttl": 0},
                    {"from": 500, "ttl": -1},
                ],
            },
        },
        (),
    ),
    # The docs' rule leaves cache eligibility alone; a rule of ours that caches always says so.
    (
        "cache_settings_custom_cache_key",
        {
            "action": "cache",
            "edge_ttl": {
                "mode": "override_origin",
                "default": 60,
                "status_codes": [{"code": 200, "ttl": 50}, {"from": 201, "to": 300, "ttl": 30}],
            },
            "browser_ttl": {"mode": "respect_origin"},
            "serve_stale": False,
            "respect_strong_etags": True,
            "cache_key": {"ignore_query_order": False, "deception_armor": True, "query_string": {"exclude": "*"}},
            "origin_error_passthrough": False,
        },
        ("cache",),
    ),
    (
        "cache_key",
        {
            "action": "cache",
            "cache_key": {"ignore_query_order": True, "deception_armor": True, "query_string": {"include": "*"}},
        },
        (),
    ),
    ("query_string_lists", {"action": "cache", "cache_key": {"query_string": {"include": ["q", "page"]}}}, ()),
    ("query_string_exclude_list", {"action": "cache", "cache_key": {"query_string": {"exclude": ["utm_source"]}}}, ()),
    (
        "serve_stale",
        {"action": "cache", "serve_stale": False, "respect_strong_etags": True, "origin_error_passthrough": True},
        (),
    ),
]


def _as_read(ref: str) -> dict[str, Any]:
    settings = action_settings(documented_rule(ref))
    custom_key = settings.get("cache_key", {}).get("custom_key")
    if custom_key:
        settings["cache_key"]["custom_key"] = {k: v for k, v in custom_key.items() if k not in NOT_IN_OUR_CONFIG}
    return settings


def _ours(neutral: dict[str, Any], ours_only: tuple[str, ...]) -> dict[str, Any]:
    settings = cache_settings(CacheRule.model_validate({"name": "r", **neutral}))
    return {k: v for k, v in settings.items() if k not in ours_only}


@pytest.mark.parametrize("ref,neutral,ours_only", CASES, ids=[c[0] for c in CASES])
def test_what_the_provider_reads_back_is_what_we_send(
    ref: str, neutral: dict[str, Any], ours_only: tuple[str, ...]
) -> None:
    assert _ours(neutral, ours_only) == _as_read(ref)


def key_paths(value: Any, prefix: str = "") -> Iterable[str]:
    if isinstance(value, dict):
        for key, inner in value.items():
            yield f"{prefix}.{key}".lstrip(".")
            yield from key_paths(inner, f"{prefix}.{key}")
    elif isinstance(value, list):
        for inner in value:
            yield from key_paths(inner, f"{prefix}[]")


EVERY_SHAPE: list[dict[str, Any]] = [
    {"action": "bypass"},
    {"action": "cache"},
    *({"action": "cache", "edge_ttl": {"mode": m}} for m in ("respect_origin", "bypass_by_default")),
    {
        "action": "cache",
        "edge_ttl": {
            "mode": "override_origin",
            "default": 7200,
            "status_codes": [
                {"code": 404, "ttl": 0},
                {"from": 500, "to": 599, "ttl": -1},
                {"from": 300, "ttl": 60},
                {"to": 199, "ttl": 5},
            ],
        },
    },
    *({"action": "cache", "browser_ttl": {"mode": m}} for m in ("respect_origin", "bypass")),
    {"action": "cache", "browser_ttl": {"mode": "override_origin", "default": 600}},
    *(
        {"action": "cache", "cache_key": {"query_string": {which: names}}}
        for which in ("include", "exclude")
        for names in (["a"], "*", [], ["*", "a"])
    ),
    {"action": "cache", "cache_key": {"ignore_query_order": True, "deception_armor": False}},
    *(
        {"action": "cache", "serve_stale": b, "origin_error_passthrough": b, "respect_strong_etags": b}
        for b in (True, False)
    ),
]


def test_the_documented_examples_cover_every_key_path_the_compiler_emits() -> None:
    emitted = {
        p for shape in EVERY_SHAPE for p in key_paths(cache_settings(CacheRule.model_validate({"name": "r", **shape})))
    }
    held = {p for _, neutral, _ in CASES for p in key_paths(_ours(neutral, ()))}
    assert emitted - held == set()


def test_a_query_string_list_naming_star_is_sent_as_all_not_as_a_parameter_named_star() -> None:
    """terraform-provider-cloudflare #6087: {list: ["*"]} is one parameter literally named '*'."""
    for which in ("include", "exclude"):
        settings = cache_settings(
            CacheRule.model_validate(
                {"name": "r", "action": "cache", "cache_key": {"query_string": {which: ["*", "utm_source"]}}}
            )
        )
        assert settings["cache_key"]["custom_key"]["query_string"] == {which: {"all": True}}


def test_a_bare_exclude_star_would_read_back_as_a_parameter_named_star() -> None:
    """Why we never rely on the bare-array form: the provider reads it as a list, a diff against {all: true}."""
    read = provider_read({"action_parameters": {"cache_key": {"custom_key": {"query_string": {"exclude": ["*"]}}}}})
    assert read["action_parameters"]["cache_key"]["custom_key"]["query_string"] == {"exclude": {"lists": ["*"]}}


def test_the_api_returns_no_rule_field_we_do_not_send_but_the_ones_it_computes() -> None:
    project = project_of(raw_config())
    sent = set(zone_cache_rules(project, "example.com")[0].to_rule())
    for rule in fixture("cache_rules_entrypoint.json")["result"]["rules"]:
        assert set(rule) - SERVER_FIELDS <= sent
        assert set(provider_read(rule)) <= sent


def test_a_polish_configuration_rule_reads_back_as_sent() -> None:
    project = project_of(
        raw_config(images=[{"name": "photos", "match": {"path_prefixes": ["/images/"]}, "polish": "lossless"}])
    )
    [rule] = zone_config_rules(project, "example.com")
    documented = documented_rule("polish", "config_rules_entrypoint.json")
    assert dict(rule.settings) == action_settings(documented)
    assert rule.to_rule()["action"] == documented["action"]
    assert set(provider_read(documented)) <= set(rule.to_rule())


def test_a_cloud_connector_rule_is_sent_in_the_form_the_api_lists_it() -> None:
    """The docs' PUT omits ``enabled`` and their GET shows ``enabled: true``: we send it, so nothing is filled in."""
    media = MediaConfig.model_validate(
        {"backend": "aws", "aws": {"bucket_name": "shop-media"}, "domain": {"host": "media.example.com"}}
    )
    ours = to_api(connector_rule(media, "shop", "live", "shop-media.s3.eu-central-1.amazonaws.com"))
    [documented] = fixture("cloud_connector_rules.json")["result"]
    listed = {k: v for k, v in documented.items() if k not in SERVER_FIELDS}
    assert set(ours) == set(listed)
    assert {k: type(v) for k, v in ours.items()} == {k: type(v) for k, v in listed.items()}
    assert set(ours["parameters"]) == set(listed["parameters"])
    assert ours["enabled"] is True and ours["provider"] == "aws_s3"
    assert provider_read(documented)["cloud_connector_rules_provider"] == "aws_s3"
