"""Property tests of the policy compiler over generated valid projects: a Live stack that owns the zone and,
sometimes, a Test stack; sites with cache policies, per-path image rules and media on custom domains.

- every emitted expression parses with Cloudflare's wirefilter;
- a zone never gets more rules than its plan allows: compilation either fits or fails naming the plan;
- merging never changes what happens to a request, for cache rules (app and media) and configuration rules;
- the plan's behaviour table agrees with evaluating the rules, for every request, however its text is read;
- the diff of two projects says exactly which requests change, from what to what;
- on app hosts, a request with a session cookie or an Authorization header (or a truncated header list), to the
  admin, for django CMS editing or with a method other than GET and HEAD is never cacheable, whatever the
  user's rules and whatever the case of the Host header.
"""

import re

import octorules_wirefilter
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from appcdn.behaviour.outcome import Outcome, effect_outcome
from appcdn.behaviour.request_atoms import covers
from appcdn.behaviour.request_space import Effect
from appcdn.behaviour.table import behaviour_rows
from appcdn.behaviour.table_diff import SiteHosts, ZoneSide, behaviour_changes
from appcdn.commands.plan.table_text import shown_terms
from appcdn.config.media import media_hosts
from appcdn.config.plans import RULES_PER_PHASE
from appcdn.config.problems import ConfigError
from appcdn.config.project import Project, StackSource, load_project
from appcdn.rules.expressions import Request
from appcdn.rules.rulesets import (
    apply_rules,
    compile_zones,
    merge_rules,
    scoped_cache_rules,
    scoped_config_rules,
    site_stages,
)

PREFIXES = ["/a/", "/a/b/", "/b/", "/static/", "/media/", "/admin/"]
GLOBS = ["/a/*", "/*.jpg", "/media/*/x*", "/b"]
EXTENSIONS = ["jpg", "css", "html"]
COOKIES = ["sessionid", "lang", "cart"]
SESSION_COOKIES = ["sessionid", "sid", "cms_session"]
HEADERS = ["authorization", "x-preview", "accept"]
PATHS = [
    "/",
    "/a/x",
    "/a/b/c.jpg",
    "/static/s.css",
    "/media/q/x1",
    "/b",
    "/admin/",
    "/page.html",
    "/filer_public_thumbnails/t.jpg",
    "/docs/f.pdf",
    "/public/filer_public_thumbnails/t.jpg",
    "/public/docs/x",
]
OBJECT_GLOBS = ["filer_public_thumbnails/*", "docs/*", "*.pdf", "*/t.jpg"]
CACHE_CONTROLS = [
    "public, max-age=31536000",
    "public, max-age=3600",
    "public, max-age=86400",
    "no-store",
    "private, no-store",
]
TTLS = [86400, 604800, 31536000]

# Not counted by the coverage gate: what random inputs reach varies from run to run, and tracing them would
# double these tests' time. The example tests cover the same code, deterministically.
pytestmark = pytest.mark.uncounted


def small_list(values, max_size=2):
    return st.lists(st.sampled_from(values), max_size=max_size, unique=True)


matches = st.fixed_dictionaries(
    {},
    optional={
        "path_prefixes": small_list(PREFIXES),
        "paths": small_list(GLOBS),
        "extensions": small_list(EXTENSIONS),
        "methods": small_list(["GET", "HEAD", "POST"]),
        "cookies": small_list(COOKIES),
        "headers": small_list(HEADERS),
    },
)
edge_ttls = st.one_of(
    st.builds(lambda m: {"mode": m}, st.sampled_from(["respect_origin", "bypass_by_default"])),
    st.builds(
        lambda d, codes: {
            "mode": "override_origin",
            "default": d,
            "status_codes": [{"code": c, "ttl": d} for c in codes],
        },
        st.sampled_from(TTLS),
        small_list([404, 301, 200]),
    ),
)
browser_ttls = st.one_of(
    st.builds(lambda m: {"mode": m}, st.sampled_from(["respect_origin", "bypass"])),
    st.builds(lambda d: {"mode": "override_origin", "default": d}, st.sampled_from(TTLS)),
)
cache_settings = st.fixed_dictionaries(
    {},
    optional={
        "edge_ttl": edge_ttls,
        "browser_ttl": browser_ttls,
        "serve_stale": st.booleans(),
        "respect_strong_etags": st.booleans(),
        "origin_error_passthrough": st.booleans(),
        "cache_key": st.fixed_dictionaries(
            {},
            optional={
                "deception_armor": st.booleans(),
                "ignore_query_order": st.booleans(),
                "query_string": st.one_of(
                    st.builds(lambda v: {"include": v}, small_list(["p", "q"])),
                    st.builds(lambda v: {"exclude": v}, st.sampled_from(["*", ["utm"]])),
                ),
            },
        ),
    },
)
rule_bodies = st.one_of(
    st.builds(lambda m: {"action": "bypass", "match": m}, matches),
    st.builds(
        lambda m, s, vouch: {"action": "cache", "match": m, "responses_set_no_cookies": vouch, **s},
        matches,
        cache_settings,
        st.booleans(),
    ),
)
policies = st.builds(
    lambda defaults, cookies, bodies: {
        "stage_defaults": defaults,
        "session_cookies": cookies,
        "rules": [{"name": f"r{i}", **b} for i, b in enumerate(bodies)],
    },
    st.booleans(),
    st.lists(st.sampled_from(SESSION_COOKIES), min_size=1, max_size=2, unique=True),
    st.lists(rule_bodies, max_size=8),
)


header_rules = st.builds(
    lambda globs, controls, modes: (
        [{"match": g, "cache_control": c, "edge_ttl": m} for g, c, m in zip(globs, controls, modes)]
        + [{"match": "*", "cache_control": controls[-1]}]
    ),
    st.lists(st.sampled_from(OBJECT_GLOBS), max_size=3, unique=True),
    st.lists(st.sampled_from(CACHE_CONTROLS), min_size=4, max_size=4),
    st.lists(st.sampled_from(["auto", "respect_origin"]), min_size=3, max_size=3),
)
image_rules = st.lists(
    st.builds(lambda m, p: {"match": m, "polish": p}, matches, st.sampled_from(["off", "lossless", "lossy"])),
    max_size=3,
)


@st.composite
def sites(draw, i: int, suffix: str) -> dict:
    site = {
        "name": f"s{i}",
        "zone": "example.com",
        "hosts": [f"s{i}{suffix}.example.com"],
        "cache": draw(policies),
        "images": [{"name": f"i{j}", **r} for j, r in enumerate(draw(image_rules))],
    }
    if draw(st.booleans()):
        site["media"] = {
            "backend": draw(st.sampled_from(["aws", "azure"])),
            "headers": draw(header_rules),
            "aws": {"bucket_name": f"bucket-s{i}{suffix}"},
            "azure": {"account_name": f"acc{i}{suffix[1:]}"},
            "domain": {"host": f"m{i}{suffix}.example.com", "cache": draw(st.booleans())},
        }
    return site


RULE_PATH = re.compile(r"^sites\[(\d+)\]\.(cache\.rules|images)\[(\d+)\]")


def _without_refused_rules(stacks: dict[str, dict], problems: list) -> bool:
    """Drop the generated rules the config refuses (a rule a later one overrides entirely, criteria that never
    hold, query-string lists below Enterprise…), so that most draws stay valid; False if another problem."""
    doomed = set()
    for problem in problems:
        found = RULE_PATH.match(problem.path)
        if not found or problem.file not in stacks:
            return False
        doomed.add((problem.file, int(found.group(1)), found.group(2), int(found.group(3))))
    for stage, i, key, j in sorted(doomed, reverse=True):
        site = stacks[stage]["sites"][i]
        rules = site["cache"]["rules"] if key == "cache.rules" else site["images"]
        del rules[j]
    return True


@st.composite
def projects(draw, plans=tuple(RULES_PER_PHASE)) -> Project:
    plan = draw(st.sampled_from(plans))
    n_sites = draw(st.integers(1, 3))
    stacks = {
        "live": {
            "stage": "live",
            "zones": {"example.com": {"id": "023e105f4ecef8ad9ca31a8372d0c353", "plan": plan}},
            "sites": [draw(sites(i, "")) for i in range(n_sites)],
        }
    }
    if draw(st.booleans()):
        stacks["test"] = {"stage": "test", "sites": [draw(sites(i, "-test")) for i in range(n_sites)]}
    for _ in range(4):
        try:
            return load_project(
                StackSource("live", stacks["live"], (), "live"),
                [StackSource(stage, raw, (), stage) for stage, raw in stacks.items() if stage != "live"],
            )
        except ConfigError as err:
            if not _without_refused_rules(stacks, err.problems):
                break
    assume(False)
    raise AssertionError("unreachable")


requests = st.builds(
    Request,
    host=st.sampled_from([f"{k}{i}{t}.example.com" for k in "sm" for i in range(3) for t in ("", "-test")]),
    path=st.sampled_from(PATHS),
    method=st.sampled_from(["GET", "HEAD", "POST"]),
    cookies=st.frozensets(st.sampled_from(COOKIES)),
    headers=st.frozensets(st.sampled_from(["Authorization", "Accept"])),
)

SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(projects())
def test_every_expression_parses_with_wirefilter(config):
    scoped = scoped_cache_rules(config, "example.com") + scoped_config_rules(config, "example.com")
    for rule in scoped + merge_rules(scoped):
        assert "error" not in octorules_wirefilter.parse_expression(rule.expression), rule.expression


@SETTINGS
@given(projects())
def test_rule_count_never_exceeds_the_plan_limit(config):
    limit = RULES_PER_PHASE[config.zone("example.com").plan]
    try:
        zone = compile_zones(config)["example.com"]
    except ConfigError as err:
        assert {p.path for p in err.problems} == {"zones.example.com.plan"}
        media_domains = sum(1 for _, site in config.sites_on("example.com") if site.media and site.media.domain)
        assert (
            max(
                len(merge_rules(scoped_cache_rules(config, "example.com"))),
                len(merge_rules(scoped_config_rules(config, "example.com"))),
                media_domains,
            )
            > limit
        )
        return
    assert len(zone.cache) <= limit and len(zone.config) <= limit and len(zone.media_domains) <= limit


@SETTINGS
@given(projects(), st.lists(requests, min_size=1, max_size=20))
def test_merging_never_changes_a_requests_outcome(config, reqs):
    for rules in (scoped_cache_rules(config, "example.com"), scoped_config_rules(config, "example.com")):
        merged = merge_rules(rules)
        for request in reqs:
            assert apply_rules(merged, request) == apply_rules(rules, request)


SAFETY_CARRIERS = [
    "cookie",
    "cookie-with-space",
    "authorization",
    "truncated-headers",
    "admin",
    "cms-edit",
    "cms-wizard",
    "method",
]


@SETTINGS
@given(projects(), requests, st.sampled_from(SAFETY_CARRIERS), st.booleans(), st.data())
def test_safety_bypasses_hold_whatever_user_rules_come_before(config, request, carrier, shout, data):
    """Sessions, Authorization, the admin, django CMS editing and unsafe methods are never cached on app hosts,
    whatever random user rules say, and whatever case the Host header has."""
    policies = {h: site.cache for _, site in config.sites_on("example.com") for h in site.hosts}
    host = data.draw(st.sampled_from(sorted(policies)))
    cookies, headers, path, method, args = request.cookies, request.headers, request.path, request.method, frozenset()
    truncated = False
    if carrier.startswith("cookie"):
        cookie = data.draw(st.sampled_from(policies[host].session_cookies))
        cookies = cookies | {cookie + (" " if carrier == "cookie-with-space" else "")}
    elif carrier == "authorization":
        headers = headers | {"Authorization"}
    elif carrier == "truncated-headers":
        truncated = True
    elif carrier == "admin":
        path = data.draw(st.sampled_from(["/admin", "/admin/", "/en/admin/blog/feed/", "/ADMIN/x.css", "//admin/"]))
    elif carrier == "cms-edit":
        args = frozenset([data.draw(st.sampled_from(["edit", "toolbar_off", "structure", "preview"]))])
    elif carrier == "cms-wizard":
        path = "/de/cms_wizard/create/"
    else:
        method = data.draw(st.sampled_from(["POST", "PUT", "PATCH", "DELETE", "OPTIONS"]))
    request = Request(host.upper() if shout else host, path, method, cookies, headers, truncated, args)
    merged = merge_rules(scoped_cache_rules(config, "example.com"))
    assert apply_rules(merged, request).get("cache") is False


TABLE_PATHS = [
    *PATHS,
    "/A/x",
    "/Static/s.CSS",
    "/x.CSS",
    "/en/cms_wizard/",
    "/sitemap1.xml",
    "/media/photos/a.jpg",
    "/a/b/admin",
    "/admin.jpg",
    "//a/",
]
table_requests = st.builds(
    Request,
    host=st.sampled_from([f"{k}{i}{t}.example.com" for k in "sm" for i in range(3) for t in ("", "-test")]),
    path=st.sampled_from(TABLE_PATHS),
    method=st.sampled_from(["GET", "HEAD", "POST", "PROPFIND"]),
    cookies=st.frozensets(st.sampled_from([*COOKIES, "sessionid "])),
    headers=st.frozensets(st.sampled_from(HEADERS)),
    headers_truncated=st.booleans(),
    query_args=st.frozensets(st.sampled_from(["edit", "page"]), max_size=1),
)


def evaluated(zone, request: Request, zone_polish: str) -> Outcome:
    """What Cloudflare does with ``request``: the rules applied in order, only GET and HEAD cached."""
    if request.method not in ("GET", "HEAD"):
        return Outcome("bypassed")
    cache = apply_rules(zone.cache, request)
    config = None if cache.get("cache") is False else tuple(sorted(apply_rules(zone.config, request).items()))
    return effect_outcome(Effect(tuple(sorted(cache.items())), config), zone_polish)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])  # ~0.2 s each
@given(projects(), st.lists(table_requests, min_size=1, max_size=25))
def test_the_tables_row_for_a_request_agrees_with_evaluating_the_rules(config, reqs):
    """Exactly one row covers each request to a host of the table, and its outcome is the rules'; read as the
    text shows it (each row minus the rows above it), the first row that covers the request is that row."""
    try:
        zones = compile_zones(config)
    except ConfigError:
        assume(False)
        raise
    rows = behaviour_rows(config, zones)
    shown = shown_terms(rows)
    polish = config.zone("example.com").images.polish
    for request in reqs:
        covering = [row for row in rows if row.matches(request)]
        if not any(request.host in row.hosts for row in rows):
            assert not covering
            continue
        assert len(covering) == 1, [r.requests for r in covering]
        assert covering[0].outcome == evaluated(zones["example.com"], request, polish), covering[0].requests
        first = next(
            row
            for row, terms in zip(rows, shown)
            if request.host in row.hosts and any(covers(dict(t), request) for t in terms)
        )
        assert first is covering[0]


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(
    projects(plans=["enterprise"]), projects(plans=["enterprise"]), st.lists(table_requests, min_size=1, max_size=25)
)
def test_the_diff_says_exactly_which_requests_change(base, head, reqs):
    """A request whose outcome changes is covered by the changes that say its before and after, and no other;
    one whose outcome stays is covered by none, unless it is bypassed (or not served) on both sides: those the
    diff leaves out, so a change's words may cover them too."""
    try:
        old, new = compile_zones(base)["example.com"], compile_zones(head)["example.com"]
    except ConfigError:
        assume(False)
        raise
    sides = [ZoneSide(z.cache, z.config, p.zone("example.com").images.polish) for z, p in ((old, base), (new, head))]
    sites = [
        [
            SiteHosts("example.com", ss.site, ss.stage, (*ss.hosts, *media_hosts(ss.media)))
            for ss in site_stages(p, "example.com")
        ]
        for p in (base, head)
    ]
    changes = behaviour_changes(*sites, {"example.com": sides[0]}, {"example.com": sides[1]})
    served = [{h for s in side for h in s.hosts} for side in sites]
    for request in reqs:
        before, after = (
            evaluated(z, request, s.polish) if request.host in hosts else None
            for z, s, hosts in ((old, sides[0], served[0]), (new, sides[1], served[1]))
        )
        said = {
            (c.before, c.after)
            for c in changes
            if not c.note and request.host in c.hosts and any(covers(dict(t), request) for t in c.covers)
        }
        if {before, after} <= {None, Outcome("bypassed")}:
            continue  # left out, so any change's words may also cover it
        assert said == ({(before, after)} if before != after else set())
