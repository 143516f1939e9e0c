"""The policy pack (``crossguard/``): each policy passes the shipped stacks' real resources, as ``appcdn plan --json``
prints them (the engine's wire form a policy sees), and refuses a violating one."""

from __future__ import annotations

import contextlib
import copy
import io
import json
import runpy
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pulumi
import pulumi_policy
import pytest
from google.protobuf import empty_pb2, struct_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc
from pulumi_policy import (
    EnforcementLevel,
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, unknown_checking_proxy

from appcdn import defaults
from appcdn.commands.cli import main
from appcdn.commands.plan.mock_engine import run_under_mocks
from appcdn.config.plans import RULES_PER_PHASE
from appcdn.config.project import load_project
from appcdn.config.pulumi_yaml.stack_files import peer_sources, read_stack_file
from appcdn.program.stack_program import declare, export
from appcdn.rules.rulesets import compile_zones
from tests.conftest import ROOT, ZONE_ID

sys.path.insert(0, str(ROOT / "crossguard"))
import appcdn_policies as checks

Plan = dict[str, dict[str, Any]]


def _plan(stack: str, cwd: Path = ROOT) -> Plan:
    """``appcdn plan --stack <stack> --json``, in process: resource name → {type, name, parent, protect, inputs}."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["plan", "--stack", stack, "--json", "--cwd", str(cwd)]) == 0
    return {r["name"]: r for r in json.loads(out.getvalue())["resources"]}


@pytest.fixture(scope="module")
def live() -> Plan:
    return _plan("live")


@pytest.fixture(scope="module")
def test_plan() -> Plan:
    return _plan("test")


@pytest.fixture(scope="module")
def live_outputs() -> dict[str, Any]:
    """The live stack's outputs (what the engine shows a stack policy on the root pulumi:pulumi:Stack)."""
    own = read_stack_file(ROOT, "live")
    project = load_project(own.source(), peer_sources(ROOT, "live"))
    zones = compile_zones(project)
    captured: dict[str, Any] = {}

    def capture(value: Any, into: dict[Any, Any] | list[Any], key: Any) -> None:
        """Each leaf as it resolves; a leaf unknown in a preview stays ``UNKNOWN``, as the engine sends it."""
        if isinstance(value, dict):
            into[key] = {}
            for k, v in value.items():
                capture(v, into[key], k)
        elif isinstance(value, list):
            into[key] = [checks.UNKNOWN] * len(value)
            for i, v in enumerate(value):
                capture(v, into[key], i)
        else:
            into[key] = checks.UNKNOWN
            pulumi.Output.from_input(value).apply(lambda resolved: into.__setitem__(key, resolved))

    def program() -> None:
        outputs = declare(project, zones)
        export(outputs)
        capture(outputs, captured, "outputs")

    run_under_mocks(program, own.project, "live", own.config, own.secret_keys)
    outputs: dict[str, Any] = captured["outputs"]
    assert outputs["stage"] == "live"
    return outputs


def resources(plan: Plan) -> list[checks.Resource]:
    return [checks.Resource(r["type"], r["name"], r["inputs"], r["protect"], r["parent"]) for r in plan.values()]


def of_type(plan: Plan, *types: str) -> list[dict[str, Any]]:
    found = [r for r in plan.values() if r["type"] in types]
    assert found, types
    return found


def edited(resource: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """A deep copy of a planned resource with ``changes`` (inputs=…, protect=…) applied."""
    copied = copy.deepcopy(resource)
    copied.update(changes)
    return copied


def test_the_pack_holds_appcdns_own_safety_rule_names_and_plan_limits() -> None:
    assert checks.SAFETY_RULE_NAMES == defaults.SAFETY_RULE_NAMES
    assert checks.RULES_PER_PHASE == RULES_PER_PHASE


# --- 1. App-host cache rules --------------------------------------------------------------------------------


@pytest.fixture
def cache_rules(live: Plan) -> dict[str, Any]:
    return copy.deepcopy(live["example-com-cache-rules"]["inputs"])


def test_the_shipped_cache_rules_keep_sessions_and_authorization_private(cache_rules: dict[str, Any]) -> None:
    assert checks.cache_rule_violations(checks.RULESET, cache_rules) == []


def test_a_user_rule_after_the_safety_bypasses_of_its_hosts_is_refused(cache_rules: dict[str, Any]) -> None:
    rules = cache_rules["rules"]
    feeds = next(r for r in rules if r["ref"] == "blog-live-feeds")
    rules.remove(feeds)
    rules.append(feeds)  # after blog-live-admin: cached /admin/blog/feed/, as the issue found
    [problem] = checks.cache_rule_violations(checks.RULESET, cache_rules)
    assert problem.startswith(
        "rule 10 (blog-live-feeds) (blog/live/feeds) comes after the safety bypass rule 9 (blog-live-admin)"
    )
    assert "(blog.example.com)" in problem


def test_a_pure_bypass_may_follow_the_safety_bypasses(cache_rules: dict[str, Any]) -> None:
    cache_rules["rules"].append(
        {
            "ref": "late",
            "description": "appcdn: blog/live/late",
            "action": "set_cache_settings",
            "actionParameters": {"cache": False},
            "enabled": True,
            "expression": 'lower(http.host) eq "blog.example.com"',
        }
    )
    assert checks.cache_rule_violations(checks.RULESET, cache_rules) == []


def test_a_site_without_a_session_bypass_is_refused(cache_rules: dict[str, Any]) -> None:
    admin = next(r for r in cache_rules["rules"] if r["ref"] == "blog-live-admin")
    admin["description"] = admin["description"].replace(", blog/live/session", "")
    assert checks.cache_rule_violations(checks.RULESET, cache_rules) == [
        "blog/live has no enabled session bypass (a rule named blog/live/session that sets only cache: false): "
        "requests with a session cookie could be cached and served to others",
        "rule 3 (shop-live-app) (shop/live/app, blog/live/app) caches on blog.example.com, where no session bypass "
        "of blog/live, shop/live applies",
    ]


def test_a_disabled_or_caching_safety_rule_is_refused(cache_rules: dict[str, Any]) -> None:
    admin = next(r for r in cache_rules["rules"] if r["ref"] == "shop-live-admin")
    admin["enabled"] = False
    problems = checks.cache_rule_violations(checks.RULESET, cache_rules)
    assert problems[0].startswith("rule 7 (shop-live-admin) holds the safety bypasses shop/live/admin, ")
    assert "is disabled" in problems[0]
    assert {"shop/live has no enabled session bypass", "shop/live has no enabled authorization bypass"} <= {
        p.split(" (")[0] for p in problems
    }


def test_a_cache_rule_on_a_host_no_session_bypass_covers_is_refused(cache_rules: dict[str, Any]) -> None:
    static = next(r for r in cache_rules["rules"] if r["ref"] == "blog-live-static")
    static["expression"] = static["expression"].replace(
        'eq "blog.example.com"', 'in {"blog.example.com" "news.example.com"}'
    )
    problems = checks.cache_rule_violations(checks.RULESET, cache_rules)
    assert problems == [
        "rule 8 (blog-live-static) (blog/live/static) caches on news.example.com, where no session bypass of "
        "blog/live applies",
        "rule 8 (blog-live-static) (blog/live/static) caches on news.example.com, where no authorization bypass "
        "of blog/live applies",
    ]


def test_other_resources_and_phases_are_not_cache_rules(live: Plan) -> None:
    config_rules = live["example-com-config-rules"]["inputs"]
    assert checks.cache_rule_violations(checks.RULESET, config_rules) == []
    assert checks.cache_rule_violations(checks.ZONE_SETTING, {"phase": checks.CACHE_PHASE, "rules": []}) == []


@pytest.mark.parametrize(
    "expression, hosts",
    [
        ('lower(http.host) in {"b.example.com" "A.example.com"}', {"a.example.com", "b.example.com"}),
        (
            '(lower(http.host) eq "a.com" and starts_with(http.request.uri.path, "/x")) or (http.host eq "B.com")',
            {"a.com", "b.com"},
        ),
        ('lower(http.host) eq "a.com" and (http.cookie contains "x" or http.request.method eq "POST")', {"a.com"}),
        (
            '((lower(http.host) eq "a.com" || lower(http.host) eq "b.com")) && http.cookie contains "x"',
            {"a.com", "b.com"},
        ),
        ('lower(http.host) eq "a.com" and lower(http.host) in {"a.com" "b.com"}', {"a.com"}),
        ('lower(http.host) eq "a.com" and http.request.uri.path contains "\\" or (x)"', {"a.com"}),
        ('not lower(http.host) eq "a.com"', None),
        ('ends_with(http.host, ".example.com")', None),
        ('lower(http.host) eq "a.com" or starts_with(http.request.uri.path, "/static/")', None),
        ('http.request.uri.path eq "/"', None),
    ],
)
def test_the_hosts_a_rule_can_match_are_read_soundly_from_its_expression(expression: str, hosts: set[str]) -> None:
    assert checks.expression_hosts(expression) == (None if hosts is None else frozenset(hosts))


# --- 2. Media storage -------------------------------------------------------------------------------------

MEDIA_TYPES = (
    *checks.S3_BUCKETS,
    checks.S3_BUCKET_POLICY,
    checks.S3_PUBLIC_ACCESS_BLOCK,
    checks.AZURE_ACCOUNT,
    checks.AZURE_CONTAINER,
    checks.AZURE_GROUP,
)


@pytest.mark.parametrize("stack", ["live", "test"])
def test_the_shipped_media_storage_is_private_and_live_media_protected(stack: str, live: Plan, test_plan: Plan) -> None:
    plan = live if stack == "live" else test_plan
    media = of_type(plan, *MEDIA_TYPES)
    assert len({r["type"] for r in media}) == 6
    assert {r["name"]: checks.media_storage_violations(r["type"], r["inputs"], r["protect"]) for r in media} == {
        r["name"]: [] for r in media
    }
    assert checks.media_stack_violations(resources(plan)) == []


def test_s3_batch_operations_pass_the_pack_and_only_the_reports_bucket_goes_unprotected(tmp_path: Path) -> None:
    shutil.copy(ROOT / "Pulumi.yaml", tmp_path)
    shutil.copytree(ROOT / "stacks", tmp_path / "stacks")
    live_file = tmp_path / "stacks" / "Pulumi.live.yaml"
    text = live_file.read_text()
    assert "aws: {region: eu-central-1}" in text
    live_file.write_text(
        text.replace("aws: {region: eu-central-1}", "aws: {region: eu-central-1, batch_operations: {}}", 1)
    )
    plan = _plan("live", tmp_path)
    media = of_type(plan, *MEDIA_TYPES)
    assert {r["name"]: checks.media_storage_violations(r["type"], r["inputs"], r["protect"]) for r in media} == {
        r["name"]: [] for r in media
    }
    assert checks.media_stack_violations(resources(plan)) == []
    reports = plan["shop-live-media-headers-reports"]
    assert not reports["protect"]
    untagged = edited(reports, inputs={**reports["inputs"], "tags": {"appcdn-stage": "live"}})
    assert checks.media_storage_violations(untagged["type"], untagged["inputs"], False)


def test_a_bucket_policy_that_lets_anyone_list_or_write_is_refused(live: Plan) -> None:
    policy = json.loads(live["shop-live-media-policy"]["inputs"]["policy"])
    policy["Statement"][1]["Action"] = ["s3:GetObject", "s3:ListBucket", "s3:PutObject"]
    policy["Statement"].append({"Sid": "Everything", "Effect": "Allow", "Principal": {"AWS": ["*"]}, "Action": "s3:*"})
    policy["Statement"].append(
        {"Sid": "Sneaky", "Effect": "Allow", "NotPrincipal": {"AWS": "arn:aws:iam::1:root"}, "Action": "s3:GetObject"}
    )
    inputs = {**live["shop-live-media-policy"]["inputs"], "policy": json.dumps(policy)}
    assert checks.media_storage_violations(checks.S3_BUCKET_POLICY, inputs) == [
        "PublicReadOfPublicMedia allows anyone s3:listbucket, s3:putobject: public access is s3:GetObject only "
        "(no listing, no writing)",
        "Everything allows anyone s3:*: public access is s3:GetObject only (no listing, no writing)",
        "Sneaky: an Allow with NotPrincipal or NotAction can grant anyone anything",
    ]
    assert checks.media_storage_violations(checks.S3_BUCKET_POLICY, {"policy": "{"}) == [
        "the bucket policy is not valid JSON"
    ]


def test_a_listable_container_an_unprotected_live_bucket_and_weak_tls_are_refused(live: Plan) -> None:
    container = live["blog-live-media-public"]["inputs"]
    assert checks.media_storage_violations(checks.AZURE_CONTAINER, {**container, "publicAccess": "Container"}) == [
        "publicAccess Container lets anyone list the container; use None, or Blob for public media (read by name only)"
    ]
    bucket = live["shop-live-media-bucket"]["inputs"]
    assert checks.media_storage_violations(checks.S3_BUCKETS[0], bucket, protect=False) == [
        "a Live media bucket must be protected (protect=True): deleting it deletes the site's uploads"
    ]
    assert checks.media_storage_violations(checks.S3_BUCKETS[0], {**bucket, "acl": "public-read"}, protect=True) == [
        "the bucket's ACL public-read opens it to everyone; use a bucket policy that allows s3:GetObject on the "
        "public prefixes"
    ]
    account = live["blog-live-media-account"]["inputs"]
    assert checks.media_storage_violations(
        checks.AZURE_ACCOUNT, {**account, "minimumTlsVersion": "TLS1_0", "enableHttpsTrafficOnly": False}, protect=True
    ) == ["enableHttpsTrafficOnly must be true", "minimumTlsVersion must be TLS1_2 or above, not TLS1_0"]
    block = live["shop-live-media-public-access"]["inputs"]
    assert checks.media_storage_violations(checks.S3_PUBLIC_ACCESS_BLOCK, {**block, "ignorePublicAcls": False}) == [
        "ignorePublicAcls must be true: no ACL may make media public or writable"
    ]
    assert checks.media_storage_violations(checks.S3_BUCKET_ACLS[0], {"acl": "public-read-write"}) == [
        "the bucket ACL grants access to everyone; public media is read through the bucket policy only"
    ]


def test_a_bucket_without_public_access_block_and_an_unprotected_live_container_are_refused(live: Plan) -> None:
    plan = {name: r for name, r in live.items() if name != "shop-live-media-public-access"}
    plan["blog-live-media-private"] = edited(plan["blog-live-media-private"], protect=False)
    assert checks.media_stack_violations(resources(plan)) == [
        (
            "shop-live-media-bucket",
            "the bucket has no public access block (BucketPublicAccessBlock): nothing stops "
            "a public ACL or policy added later",
        ),
        (
            "blog-live-media-private",
            "a container of a Live media storage account must be protected (protect=True): "
            "deleting it deletes the site's uploads",
        ),
    ]


def test_a_public_access_block_is_matched_to_its_bucket_by_dependency_or_name() -> None:
    bucket = checks.Resource(checks.S3_BUCKETS[0], "urn:b", {"bucket": "media", "id": "media"}, parent="urn:c")
    by_dependency = checks.Resource(
        checks.S3_PUBLIC_ACCESS_BLOCK, "urn:p", {"bucket": "x"}, dependencies=frozenset({"urn:b"})
    )
    by_name = checks.Resource(
        checks.S3_PUBLIC_ACCESS_BLOCK,
        "urn:p",
        {"bucket": "media"},
        parent="urn:other",
        dependencies=frozenset({"urn:elsewhere"}),
    )
    other = checks.Resource(
        checks.S3_PUBLIC_ACCESS_BLOCK,
        "urn:p",
        {"bucket": "x"},
        parent="urn:c",
        dependencies=frozenset({"urn:elsewhere"}),
    )
    assert checks.media_stack_violations([bucket, by_dependency]) == []
    assert checks.media_stack_violations([bucket, by_name]) == []
    assert [urn for urn, _ in checks.media_stack_violations([bucket, other])] == ["urn:b"]


# --- 3. SSL strict, TLS 1.2+ ------------------------------------------------------------------------------


def test_the_shipped_zone_settings_are_strict_ssl_and_tls_1_2(live: Plan) -> None:
    settings = of_type(live, checks.ZONE_SETTING)
    assert {r["inputs"]["settingId"] for r in settings} >= {"ssl", "min_tls_version"}
    assert [p for r in settings for p in checks.tls_violations(r["type"], r["inputs"])] == []
    assert checks.zone_tls_stack_violations(resources(live)) == []


def test_full_ssl_and_tls_1_0_are_refused(live: Plan) -> None:
    ssl = live["example-com-ssl"]["inputs"]
    assert checks.tls_violations(checks.ZONE_SETTING, {**ssl, "value": "full"}) == [
        "ssl is full: it must be strict (Full strict), so that Cloudflare verifies the origin's certificate"
    ]
    tls = live["example-com-min-tls-version"]["inputs"]
    assert checks.tls_violations(checks.ZONE_SETTING, {**tls, "value": "1.0"}) == [
        "min_tls_version is 1.0: it must be 1.2 or 1.3"
    ]


def test_a_managed_zone_without_its_ssl_setting_is_refused(live: Plan, test_plan: Plan) -> None:
    plan = {name: r for name, r in live.items() if name != "example-com-ssl"}
    assert checks.zone_tls_stack_violations(resources(plan)) == [
        ("example-com-cache-rules", f"zone {ZONE_ID} is managed here without its ssl setting")
    ]
    assert checks.zone_tls_stack_violations(resources(test_plan)) == []  # Test manages no zone


# --- 4. No Mirage -----------------------------------------------------------------------------------------


def test_the_shipped_stacks_turn_no_mirage_on(live: Plan, test_plan: Plan) -> None:
    assert [
        (r["name"], p)
        for r in [*live.values(), *test_plan.values()]
        for p in checks.mirage_violations(r["type"], r["inputs"])
    ] == []


def test_mirage_in_a_zone_setting_a_configuration_rule_or_a_page_rule_is_refused(live: Plan) -> None:
    setting = {**live["example-com-polish"]["inputs"], "settingId": "mirage", "value": "on"}
    assert checks.mirage_violations(checks.ZONE_SETTING, setting)[0].startswith(
        "the zone setting turns Mirage on; Cloudflare retired it"
    )
    config_rules = copy.deepcopy(live["example-com-config-rules"]["inputs"])
    config_rules["rules"][0]["actionParameters"]["mirage"] = True
    assert checks.mirage_violations(checks.RULESET, config_rules)[0].startswith(
        "rule 0 (shop-live-photos) turns Mirage on"
    )
    page_rule = {"zoneId": ZONE_ID, "target": "example.com/*", "actions": {"mirage": "on"}}
    assert checks.mirage_violations(checks.PAGE_RULE, page_rule)[0].startswith("the page rule turns Mirage on")


# --- 5. Rule counts ---------------------------------------------------------------------------------------


def test_the_shipped_rulesets_fit_their_zones_plan(live: Plan) -> None:
    counted = of_type(live, checks.RULESET, checks.CLOUD_CONNECTOR_RULES)
    for config in ({}, {"zone_plans": {ZONE_ID: "pro"}}):
        assert [p for r in counted for p in checks.rule_count_violations(r["type"], r["inputs"], config)] == []


def test_a_ruleset_over_its_plans_limit_is_refused(live: Plan) -> None:
    cache_rules = live["example-com-cache-rules"]["inputs"]
    assert len(cache_rules["rules"]) == 11
    assert checks.rule_count_violations(
        checks.RULESET, cache_rules, {"plan": "pro", "zone_plans": {ZONE_ID: "free"}}
    ) == ["the http_request_cache_settings ruleset has 11 rules; the free plan allows 10 per zone and phase"]
    connector = {**live["example-com-cloud-connector"]["inputs"]}
    connector["rules"] = connector["rules"] * 4
    assert len(connector["rules"]) == 12
    assert checks.rule_count_violations(checks.CLOUD_CONNECTOR_RULES, connector, {"plan": "free"}) == [
        "the Cloud Connector rules has 12 rules; the free plan allows 10 per zone and phase"
    ]
    assert checks.rule_count_violations(checks.RULESET, cache_rules, {"plan": "gold"}) == [
        "the pack's config names the plan 'gold'; use one of free, pro, business, enterprise"
    ]


# --- 6. The app's cache is shared ---------------------------------------------------------------------------


def test_the_shipped_live_outputs_export_a_shared_app_cache(live: Plan, live_outputs: dict[str, Any]) -> None:
    assert {site: exports["app_env"]["CACHE_URL"] for site, exports in live_outputs["sites"].items()} == {
        "shop": "db://appcdn_cache",
        "blog": "db://appcdn_cache",
    }  # the default, Django's database cache
    assert checks.app_cache_violations(live_outputs) == []
    stack = checks.Resource(checks.STACK, "urn:pulumi:live::appcdn::pulumi:pulumi:Stack::appcdn-live", live_outputs)
    assert checks.app_cache_stack_violations([*resources(live), stack]) == []


def test_a_local_memory_or_file_cache_url_is_refused_without_repeating_the_url(live_outputs: dict[str, Any]) -> None:
    outputs = copy.deepcopy(live_outputs)
    outputs["sites"]["blog"]["app_env"]["CACHE_URL"] = "rediss://:hunter2@cache.example.net:6380/0"
    assert checks.app_cache_violations(outputs) == []
    outputs["sites"]["shop"]["app_env"]["CACHE_URL"] = "locmem://"
    outputs["sites"]["blog"]["app_env"]["CACHE_URL"] = "memcache://:hunter2@cache:11211"
    problems = checks.app_cache_violations(outputs)
    assert problems == [
        "sites.blog.app_env.CACHE_URL has the scheme 'memcache', not a shared cache: use db://<table> or rediss://…",
        "sites.shop.app_env.CACHE_URL is a locmem:// cache, local to one container; the app runs in several "
        "containers in parallel: use the database cache or Redis",
    ]
    assert not any("hunter2" in p for p in problems)
    assert checks.app_cache_stack_violations([checks.Resource(checks.RULESET, "urn:r", {})]) is None


def test_the_shipped_app_tokens_can_only_purge_their_zone_and_a_broader_one_is_refused(
    live: Plan, test_plan: Plan
) -> None:
    tokens = of_type(live, *checks.API_TOKENS)
    assert len(tokens) == 2  # shop and blog; none on Test, where nothing is cached
    assert not [r for r in test_plan.values() if r["type"] in checks.API_TOKENS]
    assert all(checks.api_token_violations(t["type"], t["inputs"]) == [] for t in tokens)
    token = tokens[0]
    [policy] = token["inputs"]["policies"]
    broader = {
        "policies": [
            {**policy, "permissionGroups": [*policy["permissionGroups"], {"id": "c8fed203ed3043cba015a93ad1616f1f"}]},
            {**policy, "resources": json.dumps({"com.cloudflare.api.account.*": "*"})},
        ]
    }
    assert checks.api_token_violations(token["type"], broader) == [
        "the token has 2 policies; an app token has one: allow Cache Purge on its zone",
        "policies[0] grants the permission groups ['e17beae8b8cb423a99b1730f21238bed', "
        "'c8fed203ed3043cba015a93ad1616f1f']; an app token gets Cache Purge (e17beae8b8cb423a99b1730f21238bed) alone",
        "policies[1].resources covers ['com.cloudflare.api.account.*']; an app token covers one zone "
        "(com.cloudflare.api.account.zone.<zone id>)",
    ]
    every_zone = {"policies": [{**policy, "resources": json.dumps({"com.cloudflare.api.account.zone.*": "*"})}]}
    assert len(checks.api_token_violations(token["type"], every_zone)) == 1


# --- The pack: every policy registered, mandatory, reporting through the policy API -------------------------

EXPECTED_POLICIES = {
    "app-cache-rules-keep-sessions-private": ResourceValidationPolicy,
    "media-storage-private": ResourceValidationPolicy,
    "media-storage-guarded": StackValidationPolicy,
    "ssl-strict-tls-1-2": ResourceValidationPolicy,
    "zone-tls-settings-managed": StackValidationPolicy,
    "no-mirage": ResourceValidationPolicy,
    "rule-counts-within-plan": ResourceValidationPolicy,
    "shared-app-cache": StackValidationPolicy,
    "app-token-purge-only": ResourceValidationPolicy,
}


@pytest.fixture(scope="module")
def pack() -> dict[str, Any]:
    """``crossguard/__main__.py`` run with PolicyPack captured (the real one serves the engine over gRPC forever)."""
    captured: dict[str, Any] = {}
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(pulumi_policy, "PolicyPack", lambda **kwargs: captured.update(kwargs))
        runpy.run_path(str(ROOT / "crossguard" / "__main__.py"), run_name="__main__")
    return captured


def test_the_pack_registers_every_policy_as_mandatory(pack: dict[str, Any]) -> None:
    assert pack["name"] == "appcdn"
    assert pack["enforcement_level"] == EnforcementLevel.MANDATORY
    assert {p.name: type(p) for p in pack["policies"]} == EXPECTED_POLICIES
    assert {p.enforcement_level for p in pack["policies"]} == {EnforcementLevel.MANDATORY}
    rule_counts = next(p for p in pack["policies"] if p.name == "rule-counts-within-plan")
    assert rule_counts.config_schema.properties["plan"]["default"] == "enterprise"


def _options(protect: bool = False) -> PolicyResourceOptions:
    return PolicyResourceOptions(protect, [], None, [], PolicyCustomTimeouts(0, 0, 0), [])


def _validate_resource(
    pack: dict[str, Any],
    name: str,
    resource_type: str,
    props: dict[str, Any],
    protect: bool = False,
    config: dict[str, Any] | None = None,
) -> list[str]:
    policy = next(p for p in pack["policies"] if p.name == name)
    reported: list[str] = []
    args = ResourceValidationArgs(
        resource_type,
        unknown_checking_proxy(copy.deepcopy(props)),
        f"urn:{name}",
        name,
        _options(protect),
        None,
        config,
    )
    policy.validate(args, lambda message, urn=None: reported.append(message))
    return reported


def test_resource_policies_report_through_the_policy_api_and_wait_for_unknown_values(
    pack: dict[str, Any], live: Plan
) -> None:
    ssl = live["example-com-ssl"]["inputs"]
    assert _validate_resource(pack, "ssl-strict-tls-1-2", checks.ZONE_SETTING, ssl) == []
    token = live["shop-live-purge-token"]
    assert _validate_resource(pack, "app-token-purge-only", token["type"], token["inputs"]) == []
    unknown_zone = {"policies": [{**token["inputs"]["policies"][0], "resources": UNKNOWN_STRING_VALUE}]}
    assert _validate_resource(pack, "app-token-purge-only", token["type"], unknown_zone) == []
    assert _validate_resource(pack, "ssl-strict-tls-1-2", checks.ZONE_SETTING, {**ssl, "value": "flexible"}) == [
        "ssl is flexible: it must be strict (Full strict), so that Cloudflare verifies the origin's certificate"
    ]
    # During preview a new bucket's ARN is unknown, so is the policy that embeds it: checked at `up`.
    policy = live["shop-live-media-policy"]["inputs"]
    assert (
        _validate_resource(
            pack, "media-storage-private", checks.S3_BUCKET_POLICY, {**policy, "policy": UNKNOWN_STRING_VALUE}
        )
        == []
    )
    bucket = live["shop-live-media-bucket"]
    assert _validate_resource(pack, "media-storage-private", bucket["type"], bucket["inputs"], protect=True) == []
    assert len(_validate_resource(pack, "media-storage-private", bucket["type"], bucket["inputs"])) == 1
    cache_rules = live["example-com-cache-rules"]["inputs"]
    assert _validate_resource(pack, "app-cache-rules-keep-sessions-private", checks.RULESET, cache_rules) == []
    assert (
        _validate_resource(pack, "rule-counts-within-plan", checks.RULESET, cache_rules, config={"plan": "free"}) != []
    )


def _policy_resources(plan: Plan) -> list[PolicyResource]:
    """The plan's resources as the engine hands them to a stack policy (parents linked, no dependencies known)."""
    by_name = {
        name: PolicyResource(
            r["type"],
            unknown_checking_proxy(copy.deepcopy(r["inputs"])),
            name,
            name,
            _options(r["protect"]),
            None,
            None,
            [],
            {},
        )
        for name, r in plan.items()
    }
    for name, r in plan.items():
        by_name[name].parent = by_name.get(r["parent"])
    return list(by_name.values())


def _validate_stack(pack: dict[str, Any], name: str, policy_resources: list[PolicyResource]) -> list[tuple[Any, str]]:
    policy = next(p for p in pack["policies"] if p.name == name)
    reported: list[tuple[Any, str]] = []
    policy.validate(StackValidationArgs(policy_resources), lambda message, urn=None: reported.append((urn, message)))
    return reported


def test_stack_policies_read_resources_and_the_stacks_outputs_through_the_policy_api(
    pack: dict[str, Any], live: Plan, live_outputs: dict[str, Any]
) -> None:
    live_resources = _policy_resources(live)
    for name in ("media-storage-guarded", "zone-tls-settings-managed"):
        assert _validate_stack(pack, name, live_resources) == []
    unprotected = _policy_resources(
        {**live, "blog-live-media-public": edited(live["blog-live-media-public"], protect=False)}
    )
    assert [urn for urn, _ in _validate_stack(pack, "media-storage-guarded", unprotected)] == ["blog-live-media-public"]

    stack_urn = "urn:pulumi:live::appcdn::pulumi:pulumi:Stack::appcdn-live"
    stack = PolicyResource(
        checks.STACK,
        unknown_checking_proxy(copy.deepcopy(live_outputs)),
        stack_urn,
        "appcdn-live",
        _options(),
        None,
        None,
        [],
        {},
    )
    assert _validate_stack(pack, "shared-app-cache", [*live_resources, stack]) == []
    local = _on_the_wire(live_outputs)
    local["sites"]["shop"]["app_env"]["CACHE_URL"] = "filecache:///tmp/cache"
    local["sites"]["blog"]["app_env"]["CACHE_URL"] = UNKNOWN_STRING_VALUE  # a managed Redis, during preview
    stack = PolicyResource(
        checks.STACK, unknown_checking_proxy(local), stack_urn, "appcdn-live", _options(), None, None, [], {}
    )
    assert _validate_stack(pack, "shared-app-cache", [stack]) == [
        (
            stack_urn,
            "sites.shop.app_env.CACHE_URL is a filecache:// cache, local to one container; the app runs in "
            "several containers in parallel: use the database cache or Redis",
        )
    ]
    with pytest.raises(Exception) as not_applicable:
        _validate_stack(pack, "shared-app-cache", live_resources)
    assert "pulumi:pulumi:Stack" in str(getattr(not_applicable.value, "reason", ""))


# --- The pack served as the engine talks to it (gRPC), the real PolicyPack -----------------------------------


@pytest.fixture(scope="module")
def analyzer() -> Iterator[analyzer_pb2_grpc.AnalyzerStub]:
    """``python crossguard/__main__.py``, as the Python policy host runs it: it prints its port and serves."""
    process = subprocess.Popen(
        [sys.executable, "-u", str(ROOT / "crossguard" / "__main__.py")],
        stdout=subprocess.PIPE,
        cwd=ROOT / "crossguard",
    )
    try:
        assert process.stdout is not None
        port = int(process.stdout.readline())
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            yield analyzer_pb2_grpc.AnalyzerStub(channel)
    finally:
        process.terminate()
        process.wait(timeout=10)


def _struct(value: dict[str, Any]) -> struct_pb2.Struct:
    struct = struct_pb2.Struct()
    struct.update(value)
    return struct


def _on_the_wire(value: Any) -> Any:
    """``value`` with ``UNKNOWN`` leaves as the engine sends them."""
    if isinstance(value, dict):
        return {k: _on_the_wire(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_on_the_wire(v) for v in value]
    return UNKNOWN_STRING_VALUE if value is checks.UNKNOWN else value


def _analyzer_resource(r: dict[str, Any], urn_of: dict[str, str]) -> analyzer_pb2.AnalyzerResource:
    return analyzer_pb2.AnalyzerResource(
        type=r["type"],
        name=r["name"],
        urn=urn_of[r["name"]],
        parent=urn_of.get(r["parent"] or "", ""),
        properties=_struct(r["inputs"]),
        options=analyzer_pb2.AnalyzerResourceOptions(protect=r["protect"]),
    )


def test_the_served_pack_lists_its_policies_and_judges_the_live_stack(
    analyzer: analyzer_pb2_grpc.AnalyzerStub, live: Plan, live_outputs: dict[str, Any]
) -> None:
    info = analyzer.GetAnalyzerInfo(empty_pb2.Empty())
    assert info.name == "appcdn"
    assert {p.name: p.enforcementLevel for p in info.policies} == dict.fromkeys(
        EXPECTED_POLICIES, analyzer_pb2.MANDATORY
    )

    urn_of = {name: f"urn:pulumi:live::appcdn::{r['type']}::{name}" for name, r in live.items()}
    for r in live.values():
        response = analyzer.Analyze(
            analyzer_pb2.AnalyzeRequest(
                type=r["type"],
                name=r["name"],
                urn=urn_of[r["name"]],
                properties=_struct(r["inputs"]),
                options=analyzer_pb2.AnalyzerResourceOptions(protect=r["protect"]),
            )
        )
        assert [d.message for d in response.diagnostics] == [], r["name"]
    stack = {
        "type": checks.STACK,
        "name": "appcdn-live",
        "parent": None,
        "protect": False,
        "inputs": _on_the_wire(live_outputs),
    }
    urn_of["appcdn-live"] = "urn:pulumi:live::appcdn::pulumi:pulumi:Stack::appcdn-live"
    response = analyzer.AnalyzeStack(
        analyzer_pb2.AnalyzeStackRequest(resources=[_analyzer_resource(r, urn_of) for r in [*live.values(), stack]])
    )
    assert [d.message for d in response.diagnostics] == []


def test_the_served_pack_reports_violations_and_takes_its_config(
    analyzer: analyzer_pb2_grpc.AnalyzerStub, live: Plan
) -> None:
    ssl = live["example-com-ssl"]
    response = analyzer.Analyze(
        analyzer_pb2.AnalyzeRequest(
            type=ssl["type"],
            name=ssl["name"],
            urn="urn:ssl",
            properties=_struct({**ssl["inputs"], "value": "flexible"}),
        )
    )
    assert [(d.policyName, d.enforcementLevel) for d in response.diagnostics] == [
        ("ssl-strict-tls-1-2", analyzer_pb2.MANDATORY)
    ]

    stack = {
        "type": checks.STACK,
        "name": "appcdn-live",
        "parent": None,
        "protect": False,
        "inputs": {"sites": {"shop": {"app_env": {"CACHE_URL": "locmem://"}}}},
    }
    response = analyzer.AnalyzeStack(
        analyzer_pb2.AnalyzeStackRequest(resources=[_analyzer_resource(stack, {"appcdn-live": "urn:stack"})])
    )
    assert [(d.policyName, d.urn) for d in response.diagnostics] == [("shared-app-cache", "urn:stack")]

    rules = live["example-com-cache-rules"]
    request = analyzer_pb2.AnalyzeRequest(
        type=rules["type"], name=rules["name"], urn="urn:rules", properties=_struct(rules["inputs"])
    )
    assert list(analyzer.Analyze(request).diagnostics) == []
    try:
        analyzer.Configure(
            analyzer_pb2.ConfigureAnalyzerRequest(
                policyConfig={
                    "rule-counts-within-plan": analyzer_pb2.PolicyConfig(
                        enforcementLevel=analyzer_pb2.MANDATORY, properties=_struct({"plan": "free"})
                    )
                }
            )
        )
        assert [d.message.splitlines()[-1] for d in analyzer.Analyze(request).diagnostics] == [
            "the http_request_cache_settings ruleset has 11 rules; the free plan allows 10 per zone and phase"
        ]
    finally:
        analyzer.Configure(analyzer_pb2.ConfigureAnalyzerRequest())
