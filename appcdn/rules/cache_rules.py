"""A site's neutral cache rules on one stage, in order, and each rule's Cloudflare cache settings.

The order is Cloudflare's stacking order (every matching rule applies, the last one wins per setting;
https://developers.cloudflare.com/cache/how-to/cache-rules/order/): the stage defaults, then the user's
rules, then the safety bypasses (``appcdn.defaults.SAFETY_RULES``), which therefore win over everything.
"""

from __future__ import annotations

from typing import Any

from appcdn import defaults
from appcdn.config.cache import CachePolicy, CacheRule, Match
from appcdn.config.fields import Stage

STAGE_RULES: dict[str, tuple[CacheRule, ...]] = {
    stage: tuple(CacheRule.model_validate(rule) for rule in rules)
    for stage, rules in defaults.STAGE_CACHE_RULES.items()
}
SAFETY_RULES = tuple(CacheRule.model_validate(rule) for rule in defaults.SAFETY_RULES)
TEST_STAGE_BYPASS = CacheRule.model_validate(defaults.TEST_STAGE_BYPASS)


def safety_rules(policy: CachePolicy, stage: Stage) -> list[CacheRule]:
    """The bypasses that come after every user rule: admin, django CMS editing, methods other than GET and
    HEAD, the session cookies, ``Authorization``; on Test, every app request."""
    rules = []
    for rule in SAFETY_RULES:
        if rule.name == "authorization":
            rules.append(CacheRule(name="session", match=Match(cookies=policy.session_cookies), action="bypass"))
        rules.append(rule)
    if stage == "test":
        rules.append(TEST_STAGE_BYPASS)
    return rules


def stage_cache_rules(policy: CachePolicy, stage: Stage) -> list[CacheRule]:
    """The ordered neutral rules of one site on one stage.

    Stage defaults first (a user rule of the same name replaces a default in place), then the user's
    other rules in their order, then the safety bypasses.
    """
    user = {r.name: r for r in policy.rules}
    rules = []
    if policy.stage_defaults:
        rules = [user.pop(d.name, d) for d in STAGE_RULES[stage]]
    rules += [r for r in policy.rules if r.name in user]
    return rules + safety_rules(policy, stage)


def cache_settings(rule: CacheRule) -> dict[str, Any]:
    """A neutral cache rule's ``set_cache_settings`` action parameters, in the API's form."""
    if rule.action == "bypass":
        return {"cache": False}
    params: dict[str, Any] = {"cache": True}
    if rule.edge_ttl is not None:
        edge: dict[str, Any] = {"mode": rule.edge_ttl.mode}
        if rule.edge_ttl.default is not None:
            edge["default"] = rule.edge_ttl.default
        ttls: list[dict[str, Any]] = []
        for sc in sorted(rule.edge_ttl.status_codes, key=lambda s: (s.code or s.from_ or 0, s.to or 0)):
            if sc.code is not None:
                ttls.append({"status_code": sc.code, "value": sc.ttl})
            else:
                bounds = {k: v for k, v in (("from_", sc.from_), ("to", sc.to)) if v is not None}
                ttls.append({"status_code_range": bounds, "value": sc.ttl})
        if ttls:
            edge["status_code_ttls"] = ttls
        params["edge_ttl"] = edge
    if rule.browser_ttl is not None:
        browser: dict[str, Any] = {"mode": rule.browser_ttl.mode}
        if rule.browser_ttl.default is not None:
            browser["default"] = rule.browser_ttl.default
        params["browser_ttl"] = browser
    if rule.cache_key is not None:
        key: dict[str, Any] = {}
        if rule.cache_key.deception_armor is not None:
            key["cache_deception_armor"] = rule.cache_key.deception_armor
        if rule.cache_key.ignore_query_order is not None:
            key["ignore_query_strings_order"] = rule.cache_key.ignore_query_order
        qs = rule.cache_key.query_string
        if qs is not None:
            which, names = ("include", qs.include) if qs.include is not None else ("exclude", qs.exclude)
            if names != "*" and "*" in (names or []):
                # A list naming '*' means every parameter; the API's {list: ["*"]} would mean one parameter
                # literally named '*' (terraform-provider-cloudflare #6087), so it is sent as {all: true}.
                names = "*"
            if names == []:  # "include none" is "exclude all", the form the API keeps
                which, names = ("exclude" if which == "include" else "include"), "*"
            key["custom_key"] = {
                "query_string": {which: {"all": True} if names == "*" else {"lists": sorted(set(names or []))}}
            }
        if key:
            params["cache_key"] = key
    if rule.serve_stale is not None:
        params["serve_stale"] = {"disable_stale_while_updating": not rule.serve_stale}
    if rule.origin_error_passthrough is not None:
        params["origin_error_page_passthru"] = rule.origin_error_passthrough
    if rule.respect_strong_etags is not None:
        params["respect_strong_etags"] = rule.respect_strong_etags
    return params
