"""Cache rules and per-path image rules of a site, in a neutral policy language, with their checks.

Cloudflare semantics the checks rest on: https://developers.cloudflare.com/cache/how-to/cache-rules/settings/
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Literal

from pydantic import ConfigDict, Field

from appcdn import defaults
from appcdn.config.fields import CookieName, Name, Strict
from appcdn.config.match import Match, match_covers, match_problems
from appcdn.config.plans import MAX_QUERY_PARAMETERS, MAX_TTL, MIN_BROWSER_TTL, MIN_EDGE_TTL, PlanTier, needs
from appcdn.config.problems import Problem, duplicate_names

PolishMode = Literal["off", "lossless", "lossy"]
__all__ = ["Match"]  # re-exported, besides what is defined here: the policy layer reads matches from here


class StatusCodeTtl(Strict):
    """Edge TTL for a status code (``code: 404``) or an inclusive range (``from: 500, to: 599``)."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, populate_by_name=True)

    code: int | None = Field(default=None, ge=100, le=599, description="one status code")
    from_: int | None = Field(default=None, alias="from", ge=100, le=599, description="first code of a range")
    to: int | None = Field(default=None, ge=100, le=599, description="last code of a range")
    ttl: int = Field(ge=-1, le=MAX_TTL, description="seconds; 0 = no-cache, -1 = no-store")


class EdgeTtl(Strict):
    """How long the edge keeps a response."""

    mode: Literal["respect_origin", "bypass_by_default", "override_origin"] = Field(
        default="respect_origin", description="bypass_by_default: cached only when the origin sends Cache-Control"
    )
    default: int | None = Field(
        default=None, ge=1, le=MAX_TTL, description="seconds; only and required with override_origin"
    )
    status_codes: list[StatusCodeTtl] = Field(default=[], description="TTLs per status code or range")


class BrowserTtl(Strict):
    """How long browsers keep a response."""

    mode: Literal["respect_origin", "override_origin", "bypass"] = Field(
        default="respect_origin", description="bypass: browsers must not cache"
    )
    default: int | None = Field(
        default=None, ge=1, le=MAX_TTL, description="seconds; only and required with override_origin"
    )


class QueryString(Strict):
    """Query-string part of the cache key: include only some, or exclude some (``'*'`` = all)."""

    include: list[str] | Literal["*"] | None = Field(default=None, description="names, or '*'; [] = exclude '*'")
    exclude: list[str] | Literal["*"] | None = Field(default=None, description="names, or '*'")


class CacheKey(Strict):
    """What the cache key holds beyond the URL."""

    query_string: QueryString | None = Field(default=None, description="give exactly one of include or exclude")
    ignore_query_order: bool | None = Field(default=None, description="sort query parameters before caching")
    deception_armor: bool | None = Field(
        default=None, description="refuse to cache a response whose type does not match the path's extension"
    )


class CacheRule(Strict):
    """One neutral cache rule. ``bypass`` takes no other setting."""

    name: Name = Field(description="unique per site; the stable ref <site>-<stage>-<name>")
    match: Match = Field(default=Match(), description="default: every request to the site's hosts")
    action: Literal["cache", "bypass"] = Field(description="cache: eligible for cache; bypass: never cached")
    edge_ttl: EdgeTtl | None = Field(default=None, description="default: Cloudflare's (respect the origin)")
    browser_ttl: BrowserTtl | None = Field(default=None, description="default: Cloudflare's")
    cache_key: CacheKey | None = Field(default=None, description="default: Cloudflare's")
    serve_stale: bool | None = Field(default=None, description="serve stale content while revalidating")
    origin_error_passthrough: bool | None = Field(default=None, description="show the origin's error pages")
    respect_strong_etags: bool | None = Field(default=None, description="keep the origin's strong ETags")
    responses_set_no_cookies: bool = Field(
        default=False,
        description="you vouch that the matched responses never set cookies; required to override "
        "the edge TTL on app paths, since Cloudflare then caches the response and drops "
        "its Set-Cookie",
    )


class CachePolicy(Strict):
    """A site's cache policy on one stage: the stage defaults, then ``rules``, then the safety bypasses."""

    stage_defaults: bool = Field(default=True, description="start from the stage's default rules (see Defaults)")
    session_cookies: list[CookieName] = Field(
        default=list(defaults.SESSION_COOKIES),
        description="requests carrying one are never cached; at least one (Django's SESSION_COOKIE_NAME)",
    )
    rules: list[CacheRule] = Field(default=[], description="applied in order after the stage defaults")


class ImageRule(Strict):
    """Polish for the requests that ``match``, through a configuration rule."""

    name: Name = Field(description="unique per site; the stable ref <site>-<stage>-<name>")
    match: Match = Field(description="which requests")
    polish: PolishMode = Field(description="off | lossless | lossy; Pro and above")


SETTING_KEYS = (
    "edge_ttl",
    "browser_ttl",
    "cache_key",
    "serve_stale",
    "origin_error_passthrough",
    "respect_strong_etags",
)
"""The cache settings a rule sends to Cloudflare besides ``cache``."""
BYPASS_FREE_KEYS = (*SETTING_KEYS, "responses_set_no_cookies")


def _bypass_problems(path: str, rule: CacheRule) -> Iterable[Problem]:
    """A bypass rule sets cache off and nothing else (Cloudflare ignores the rest)."""
    set_keys = [k for k in BYPASS_FREE_KEYS if getattr(rule, k) not in (None, False)]
    if set_keys:
        yield Problem(path, f"a bypass rule takes no cache settings; remove {', '.join(set_keys)}")


def _edge_ttl_problems(path: str, edge: EdgeTtl, plan: PlanTier) -> Iterable[Problem]:
    """Edge TTL modes and the plan's minimum.
    https://developers.cloudflare.com/cache/how-to/edge-browser-cache-ttl/#edge-cache-ttl"""
    minimum = MIN_EDGE_TTL[plan]
    if edge.mode == "override_origin":
        if edge.default is None:
            yield Problem(f"{path}.default", "required when mode is override_origin")
        elif edge.default < minimum:
            yield Problem(
                f"{path}.default", f"{edge.default} s is below the {plan} plan's minimum edge TTL of {minimum} s"
            )
    elif edge.default is not None:
        yield Problem(f"{path}.default", f"only allowed with mode override_origin, not {edge.mode}")
    for j, sc in enumerate(edge.status_codes):
        sp = f"{path}.status_codes[{j}]"
        if (sc.code is None) == (sc.from_ is None and sc.to is None):
            yield Problem(sp, "give either code, or from and/or to")
        elif sc.from_ is not None and sc.to is not None and sc.from_ > sc.to:
            yield Problem(sp, f"from {sc.from_} is above to {sc.to}")
        if 0 < sc.ttl < minimum:
            yield Problem(f"{sp}.ttl", f"{sc.ttl} s is below the {plan} plan's minimum edge TTL of {minimum} s")


def _browser_ttl_problems(path: str, browser: BrowserTtl, plan: PlanTier) -> Iterable[Problem]:
    """Modes, and the plan's minimum.
    https://developers.cloudflare.com/cache/how-to/edge-browser-cache-ttl/#browser-cache-ttl"""
    minimum = MIN_BROWSER_TTL[plan]
    if browser.mode == "override_origin" and browser.default is None:
        yield Problem(f"{path}.default", "required when mode is override_origin")
    elif browser.mode != "override_origin" and browser.default is not None:
        yield Problem(f"{path}.default", f"only allowed with mode override_origin, not {browser.mode}")
    elif browser.default is not None and browser.default < minimum:
        yield Problem(
            f"{path}.default", f"{browser.default} s is below the {plan} plan's minimum browser TTL of {minimum} s"
        )


def _cache_key_problems(path: str, key: CacheKey, plan: PlanTier) -> Iterable[Problem]:
    """Only Enterprise picks query-string parameters; every plan may ignore the query string (exclude all).
    https://developers.cloudflare.com/cache/how-to/cache-rules/settings/#cache-key"""
    qs = key.query_string
    if qs is None:
        return
    if (qs.include is None) == (qs.exclude is None):
        yield Problem(f"{path}.query_string", "give exactly one of include or exclude")
        return
    which, names = ("include", qs.include) if qs.include is not None else ("exclude", qs.exclude)
    ignores_all = (which, names) in (("include", []), ("exclude", "*"))
    message = needs(plan, "query_string_lists")
    if message and not ignores_all:
        hint = (
            "that is Cloudflare's default: remove query_string"
            if names == "*"
            else "exclude: '*' (ignore the query string) works on every plan"
        )
        yield Problem(f"{path}.query_string.{which}", f"{message}; {hint}")
    if isinstance(names, list) and len(set(names)) > MAX_QUERY_PARAMETERS:
        yield Problem(
            f"{path}.query_string.{which}",
            f"{len(set(names))} parameters; a cache key takes at most {MAX_QUERY_PARAMETERS}",
        )


def _only_static_files(match: Match) -> bool:
    """Whether a match selects only static files, which a Django app serves without cookies."""
    return bool(match.path_prefixes and all(p.startswith(defaults.STATIC_PREFIX) for p in match.path_prefixes)) or bool(
        match.extensions and set(match.extensions) <= set(defaults.STATIC_EXTENSIONS)
    )


def _set_cookie_problems(path: str, rule: CacheRule) -> Iterable[Problem]:
    """When a rule overrides the edge TTL, Cloudflare caches the response and strips its Set-Cookie, so a page
    that sets csrftoken or a login response would be served to everyone without its cookie.
    https://developers.cloudflare.com/cache/concepts/cache-behavior/#interaction-of-set-cookie-response-header-with-cache"""
    edge = rule.edge_ttl
    overrides = edge is not None and (edge.mode == "override_origin" or any(sc.ttl > 0 for sc in edge.status_codes))
    if overrides and not rule.responses_set_no_cookies and not _only_static_files(rule.match):
        yield Problem(
            f"{path}.edge_ttl",
            "overriding the edge TTL on app paths makes Cloudflare cache responses that "
            "set cookies (csrftoken, session, messages) and strip their Set-Cookie; "
            "set responses_set_no_cookies: true if these responses never set cookies, "
            "or use mode bypass_by_default and let Django send Cache-Control",
        )


def rule_problems(path: str, rule: CacheRule, plan: PlanTier) -> Iterable[Problem]:
    if rule.action == "bypass":
        yield from _bypass_problems(path, rule)
        return
    yield from _set_cookie_problems(path, rule)
    if rule.edge_ttl is not None:
        yield from _edge_ttl_problems(f"{path}.edge_ttl", rule.edge_ttl, plan)
    if rule.browser_ttl is not None:
        yield from _browser_ttl_problems(f"{path}.browser_ttl", rule.browser_ttl, plan)
    if rule.cache_key is not None:
        yield from _cache_key_problems(f"{path}.cache_key", rule.cache_key, plan)


def settings_made(rule: CacheRule) -> set[str]:
    """The settings a rule makes (every rule sets ``cache``); a bypass makes every other one moot."""
    return {"cache"} | {k for k in SETTING_KEYS if getattr(rule, k) is not None}


def overrides(later: CacheRule, earlier: CacheRule) -> bool:
    """Whether ``later``, where it matches, leaves nothing of ``earlier`` (the last rule wins per setting)."""
    return later.action == "bypass" or settings_made(later) >= settings_made(earlier)


def _dead_rule_problems(path: str, policy: CachePolicy, hosts: Sequence[str]) -> Iterable[Problem]:
    """A rule that a later rule covers and overrides entirely never has an effect: every matching rule applies in
    order and the last one wins (https://developers.cloudflare.com/cache/how-to/cache-rules/order/).

    Only the user's rules are compared with each other. The safety bypasses that follow them
    (``defaults.SAFETY_RULES``) take over the requests they match by design and leave a user rule its effect
    everywhere else, and Test's final bypass of every app request is the stage's policy, not a mistake in a rule:
    neither makes a user rule dead."""
    for i, rule in enumerate(policy.rules):
        for j in range(i + 1, len(policy.rules)):
            later = policy.rules[j]
            if overrides(later, rule) and match_covers(later.match, hosts, rule.match, hosts):
                yield Problem(
                    f"{path}.rules[{i}]",
                    f"never has an effect: rules[{j}] ({later.name!r}) comes later, "
                    "matches every request this one does and overrides all it sets; "
                    "the last matching rule wins",
                )
                break


def policy_problems(path: str, policy: CachePolicy, hosts: Sequence[str], plan: PlanTier) -> Iterable[Problem]:
    if not policy.session_cookies:
        # The policy pack's mandatory app-cache-rules-keep-sessions-private refuses a site without a session
        # bypass: refused here first, where the key path can be named.
        yield Problem(
            f"{path}.session_cookies",
            "name at least one cookie (Django's SESSION_COOKIE_NAME, default sessionid): without one, "
            "requests of logged-in users could be cached and served to others",
        )
    yield from duplicate_names(f"{path}.rules", [r.name for r in policy.rules], "rule")
    for i, rule in enumerate(policy.rules):
        rp = f"{path}.rules[{i}]"
        if rule.name in defaults.SAFETY_RULE_NAMES:
            yield Problem(f"{rp}.name", f"{rule.name!r} is reserved for a safety bypass, which always comes last")
        yield from rule_problems(rp, rule, plan)
        yield from match_problems(f"{rp}.match", rule.match, hosts, plan)
    yield from _dead_rule_problems(path, policy, hosts)


def image_problems(path: str, images: Sequence[ImageRule], hosts: Sequence[str], plan: PlanTier) -> Iterable[Problem]:
    """Polish per path needs Pro. https://developers.cloudflare.com/images/polish/"""
    yield from duplicate_names(path, [r.name for r in images], "image rule")
    for j, rule in enumerate(images):
        ip = f"{path}[{j}]"
        message = needs(plan, "polish")
        if rule.polish != "off" and message:
            yield Problem(f"{ip}.polish", message)
        yield from match_problems(f"{ip}.match", rule.match, hosts, plan)
