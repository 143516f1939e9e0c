"""Property tests of the policy compiler over generated valid configs.

- every emitted expression parses with Cloudflare's wirefilter;
- a zone never gets more rules than its plan allows: compilation either fits or fails naming the plan;
- merging never changes what happens to a request;
- on app hosts, a request with a session cookie or an Authorization header is never cacheable.
"""

import octorules_wirefilter
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from appcdn.config import RULES_PER_PHASE, ConfigError, StackConfig, parse_stack_config
from appcdn.policy.expressions import Request
from appcdn.policy.rulesets import apply_rules, compile_zones, merge_rules, scoped_cache_rules

PREFIXES = ["/a/", "/a/b/", "/b/", "/static/", "/media/", "/admin/"]
GLOBS = ["/a/*", "/*.jpg", "/media/*/x*", "/b"]
EXTENSIONS = ["jpg", "css", "html"]
COOKIES = ["sessionid", "lang", "cart"]
SESSION_COOKIES = ["sessionid", "sid", "cms_session"]
HEADERS = ["authorization", "x-preview", "accept"]
PATHS = ["/", "/a/x", "/a/b/c.jpg", "/static/s.css", "/media/q/x1", "/b", "/admin/", "/page.html"]
TTLS = [86400, 604800, 31536000]


def small_list(values, max_size=2):
    return st.lists(st.sampled_from(values), max_size=max_size, unique=True)


matches = st.fixed_dictionaries({}, optional={
    "path_prefixes": small_list(PREFIXES), "paths": small_list(GLOBS), "extensions": small_list(EXTENSIONS),
    "methods": small_list(["GET", "HEAD", "POST"]), "cookies": small_list(COOKIES), "headers": small_list(HEADERS),
})
edge_ttls = st.one_of(
    st.builds(lambda m: {"mode": m}, st.sampled_from(["respect_origin", "bypass_by_default"])),
    st.builds(lambda d, codes: {"mode": "override_origin", "default": d,
                                "status_codes": [{"code": c, "ttl": d} for c in codes]},
              st.sampled_from(TTLS), small_list([404, 301, 200])),
)
browser_ttls = st.one_of(
    st.builds(lambda m: {"mode": m}, st.sampled_from(["respect_origin", "bypass"])),
    st.builds(lambda d: {"mode": "override_origin", "default": d}, st.sampled_from(TTLS)),
)
cache_settings = st.fixed_dictionaries({}, optional={
    "edge_ttl": edge_ttls, "browser_ttl": browser_ttls, "serve_stale": st.booleans(),
    "respect_strong_etags": st.booleans(), "origin_error_passthrough": st.booleans(),
    "cache_key": st.fixed_dictionaries({}, optional={
        "deception_armor": st.booleans(), "ignore_query_order": st.booleans(),
        "query_string": st.one_of(st.builds(lambda v: {"include": v}, small_list(["p", "q"])),
                                  st.builds(lambda v: {"exclude": v}, st.sampled_from(["*", ["utm"]])))}),
})
rule_bodies = st.one_of(
    st.builds(lambda m: {"action": "bypass", "match": m}, matches),
    st.builds(lambda m, s: {"action": "cache", "match": m, **s}, matches, cache_settings),
)
policies = st.builds(
    lambda defaults, cookies, bodies: {"stage_defaults": defaults, "session_cookies": cookies,
                                       "rules": [{"name": f"r{i}", **b} for i, b in enumerate(bodies)]},
    st.booleans(), st.lists(st.sampled_from(SESSION_COOKIES), min_size=1, max_size=2, unique=True),
    st.lists(rule_bodies, max_size=8),
)


@st.composite
def stack_configs(draw) -> StackConfig:
    plan = draw(st.sampled_from(list(RULES_PER_PHASE)))
    n_sites = draw(st.integers(1, 3))
    sites = []
    for i in range(n_sites):
        site = {"name": f"s{i}", "zone": "example.com", "hosts": [f"s{i}.example.com"], "cache": draw(policies)}
        if draw(st.booleans()):
            site["other_stages"] = {"test": {"hosts": [f"s{i}-test.example.com"], "cache": draw(policies)}}
        sites.append(site)
    raw = {"stage": "live", "zones": {"example.com": {"id": "z", "plan": plan}}, "sites": sites}
    try:
        return parse_stack_config(raw, "live")
    except ConfigError:
        assume(False)


requests = st.builds(
    Request, host=st.sampled_from([f"s{i}{t}.example.com" for i in range(3) for t in ("", "-test")]),
    path=st.sampled_from(PATHS), method=st.sampled_from(["GET", "HEAD", "POST"]),
    cookies=st.frozensets(st.sampled_from(COOKIES)), headers=st.frozensets(st.sampled_from(["Authorization", "Accept"])),
)

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(stack_configs())
def test_every_expression_parses_with_wirefilter(config):
    for rule in scoped_cache_rules(config, "example.com") + merge_rules(scoped_cache_rules(config, "example.com")):
        assert "error" not in octorules_wirefilter.parse_expression(rule.expression), rule.expression


@SETTINGS
@given(stack_configs())
def test_rule_count_never_exceeds_the_plan_limit(config):
    limit = RULES_PER_PHASE[config.zones["example.com"].plan]
    try:
        zone = compile_zones(config)["example.com"]
    except ConfigError as err:
        [problem] = err.problems
        assert problem.path == "zones.example.com.plan"
        assert len(merge_rules(scoped_cache_rules(config, "example.com"))) > limit
        return
    assert len(zone.cache) <= limit and len(zone.config) <= limit


@SETTINGS
@given(stack_configs(), st.lists(requests, min_size=1, max_size=20))
def test_merging_never_changes_a_requests_outcome(config, reqs):
    rules = scoped_cache_rules(config, "example.com")
    merged = merge_rules(rules)
    for request in reqs:
        assert apply_rules(merged, request) == apply_rules(rules, request)


@SETTINGS
@given(stack_configs(), requests, st.sampled_from(["cookie", "header"]), st.randoms())
def test_sessions_and_authorization_are_never_cached(config, request, carrier, rnd):
    policies = {h: s.cache for s in config.sites for h in s.hosts} | {
        h: o.cache for s in config.sites for o in s.other_stages.values() for h in o.hosts}
    assume(request.host in policies)
    if carrier == "cookie":
        cookie = rnd.choice(policies[request.host].session_cookies)
        request = Request(request.host, request.path, request.method, request.cookies | {cookie}, request.headers)
    else:
        request = Request(request.host, request.path, request.method, request.cookies, request.headers | {"Authorization"})
    merged = merge_rules(scoped_cache_rules(config, "example.com"))
    assert apply_rules(merged, request).get("cache") is False
