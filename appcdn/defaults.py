"""Stage defaults for app hosts, in one place. Each is documented in the README ("Defaults").

Test is development-friendly: nothing on an app host is cached at the edge.
Live caches: Django decides per response (``bypass_by_default``: cached only when the origin sends
``Cache-Control``, e.g. django CMS pages with ``max-age=60``), static files are cached for 30 days,
the admin is never cached. On every stage the session bypass comes last, so a request carrying a
session cookie or an ``Authorization`` header is never served from the cache.
"""

from appcdn.config import BrowserTtl, CacheKey, CachePolicy, CacheRule, EdgeTtl, Match, Stage

STATIC_EDGE_TTL = 30 * 24 * 3600

STAGE_RULES: dict[Stage, tuple[CacheRule, ...]] = {
    "test": (
        CacheRule(name="app", action="bypass"),
    ),
    "live": (
        CacheRule(name="app", action="cache", edge_ttl=EdgeTtl(mode="bypass_by_default"),
                  browser_ttl=BrowserTtl(mode="respect_origin"), cache_key=CacheKey(deception_armor=True)),
        CacheRule(name="static", match=Match(path_prefixes=["/static/"]), action="cache",
                  edge_ttl=EdgeTtl(mode="override_origin", default=STATIC_EDGE_TTL),
                  browser_ttl=BrowserTtl(mode="respect_origin")),
        CacheRule(name="admin", match=Match(path_prefixes=["/admin/"]), action="bypass"),
    ),
}

def stage_cache_rules(policy: CachePolicy, stage: Stage) -> list[CacheRule]:
    """The ordered neutral rules of one site on one stage.

    Stage defaults first (a user rule of the same name replaces a default in place), then the user's
    other rules in their order, then the session bypass, which therefore wins over everything.
    """
    user = {r.name: r for r in policy.rules}
    rules = []
    if policy.stage_defaults:
        rules = [user.pop(d.name, d) for d in STAGE_RULES[stage]]
    rules += [r for r in policy.rules if r.name in user]
    if policy.session_cookies:
        rules.append(CacheRule(name="session", match=Match(cookies=policy.session_cookies), action="bypass"))
    rules.append(CacheRule(name="authorization", match=Match(headers=["authorization"]), action="bypass"))
    return rules
