"""Property tests over generated valid projects (a Live stack that owns the zone and, sometimes, a Test stack; sites
with one or two hosts, cache policies using every match criterion, per-path image rules, media on custom domains),
evaluating the expression text that is deployed for every generated request:

- every emitted expression parses with Cloudflare's wirefilter;
- the emitted text of every rule says, for every request, what the model of its match says (``request_matches``),
  whatever the case of the Host header, with a trailing dot, percent-encoded query names, ``sessionid =x``, a cookie
  whose value or longer name holds a session cookie's name, a truncated header list;
- a zone never gets more rules than its plan allows: compilation either fits or fails naming the plan;
- merging never changes what the deployed text does to a request, for cache and configuration rules;
- the plan's behaviour table agrees with the deployed text, for every request, however its text is read;
- the diff of a project and the same project after a change to one rule says exactly which requests change,
  from what to what;
- on app hosts, a request that Django reads as carrying a session cookie or a django CMS editing argument (the
  judges are Django's own ``parse_cookie`` and ``QueryDict``), with ``Authorization`` (or a truncated header list),
  to the admin or ``cms_wizard``, or with a method other than GET and HEAD is never cache-eligible, whatever the
  user's rules.

Requests are evaluated by ``appcdn.rules.expression_reader``, which reads every form appcdn emits (an expression
it could not read fails the test); wirefilter checks the syntax.
"""

import copy
import itertools
import re
from collections.abc import Sequence
from typing import Any, TypeVar

import octorules_wirefilter
import pytest
from django.conf import settings as django_settings
from django.http import QueryDict
from django.http.cookie import parse_cookie
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from appcdn import defaults
from appcdn.behaviour.outcome import Outcome, effect_outcome
from appcdn.behaviour.request_atoms import covers
from appcdn.behaviour.request_space import Effect
from appcdn.behaviour.table import behaviour_rows
from appcdn.behaviour.table_diff import SiteHosts, ZoneSide, behaviour_changes
from appcdn.commands.plan.table_text import shown_terms
from appcdn.config.media import media_hosts
from appcdn.config.plans import RULES_PER_PHASE
from appcdn.config.problems import ConfigError, Problem
from appcdn.config.project import Project, StackSource, load_project
from appcdn.rules.expression_reader import parse
from appcdn.rules.expressions import Request
from appcdn.rules.rulesets import (
    CompiledRule,
    ZoneRules,
    compile_zones,
    merge_rules,
    scoped_cache_rules,
    scoped_config_rules,
)
from appcdn.rules.rulesets import site_stages as stages_on

PREFIXES = ["/a/", "/a/b/", "/b/", "/static/", "/media/", "/admin/"]
GLOBS = ["/a/*", "/*.jpg", "/media/*/x*", "/b"]
SEGMENTS = ["admin", "feed", "b"]
EXTENSIONS = ["jpg", "css", "html"]
COOKIES = ["sessionid", "lang", "cart"]
SESSION_COOKIES = ["sessionid", "sid", "cms_session"]
HEADERS = ["authorization", "x-preview", "accept"]
QUERY_ARGS = ["page", "edit", "p"]
EXPRESSIONS = [
    'http.request.uri.path contains "/a"',
    'http.request.method eq "HEAD"',
    'http.cookie contains "lang"',
    'not starts_with(http.request.uri.path, "/static/")',
]
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
    "/A/x",
    "/Static/s.CSS",
    "/x.CSS",
    "/en/cms_wizard/",
    "/sitemap1.xml",
    "/media/photos/a.jpg",
    "/a/b/admin",
    "/admin.jpg",
    "//a/",
    "/en/Feed/",
    "/static/Admin/x.css",
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
HOSTS = [f"{k}{i}{t}.example.com" for k in "swm" for i in range(3) for t in ("", "-test")]
SENT_COOKIES = [*COOKIES, "sessionid ", "a=sessionid", "xsessionid=1", "sid=1", " cms_session=x", "lang=sid"]
SENT_HEADERS = ["Authorization", "AUTHORIZATION", "Accept", "X-Preview", "x-preview"]
SENT_QUERY_ARGS = ["edit", "%65dit", "ed%69t", "%2565dit", "Edit", "%70review", "page", "p", "%70", "struct%75re"]

# Not counted by the coverage gate: what random inputs reach varies from run to run, and tracing them would
# double these tests' time. The example tests cover the same code, deterministically.
pytestmark = pytest.mark.uncounted


T = TypeVar("T")


def small_list(values: Sequence[T], max_size: int = 2) -> st.SearchStrategy[list[T]]:
    return st.lists(st.sampled_from(values), max_size=max_size, unique=True)


def matches(hosts: list[str]) -> st.SearchStrategy[dict[str, Any]]:
    """Every criterion a rule can have; ``hosts`` among its site's."""
    return st.fixed_dictionaries(
        {},
        optional={
            "hosts": st.lists(st.sampled_from(hosts), min_size=1, max_size=len(hosts), unique=True),
            "path_prefixes": small_list(PREFIXES),
            "paths": small_list(GLOBS),
            "path_segments": small_list(SEGMENTS),
            "extensions": small_list(EXTENSIONS),
            "methods": small_list(["GET", "HEAD", "POST"]),
            "cookies": small_list(COOKIES),
            "headers": small_list(HEADERS),
            "query_args": small_list(QUERY_ARGS),
            "expression": st.sampled_from(EXPRESSIONS),
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


def rule_bodies(hosts: list[str]) -> st.SearchStrategy[dict[str, Any]]:
    return st.one_of(
        st.builds(lambda m: {"action": "bypass", "match": m}, matches(hosts)),
        st.builds(
            lambda m, s, vouch: {"action": "cache", "match": m, "responses_set_no_cookies": vouch, **s},
            matches(hosts),
            cache_settings,
            st.booleans(),
        ),
    )


def policies(hosts: list[str]) -> st.SearchStrategy[dict[str, Any]]:
    return st.builds(
        lambda defaults_, cookies, bodies: {
            "stage_defaults": defaults_,
            "session_cookies": cookies,
            "rules": [{"name": f"r{i}", **b} for i, b in enumerate(bodies)],
        },
        st.booleans(),
        st.lists(st.sampled_from(SESSION_COOKIES), min_size=1, max_size=2, unique=True),
        st.lists(rule_bodies(hosts), max_size=5),
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


@st.composite
def sites(draw: st.DrawFn, i: int, suffix: str) -> dict[str, Any]:
    hosts = [f"s{i}{suffix}.example.com"] + ([f"w{i}{suffix}.example.com"] if draw(st.booleans()) else [])
    images = draw(
        st.lists(
            st.builds(
                lambda m, p: {"match": m, "polish": p}, matches(hosts), st.sampled_from(["off", "lossless", "lossy"])
            ),
            max_size=2,
        )
    )
    site = {
        "name": f"s{i}",
        "zone": "example.com",
        "hosts": hosts,
        "cache": draw(policies(hosts)),
        "images": [{"name": f"i{j}", **r} for j, r in enumerate(images)],
    }
    if draw(st.booleans()):
        backend = draw(st.sampled_from(["aws", "azure"]))
        site["media"] = {
            "backend": backend,
            "headers": draw(header_rules),
            backend: {"bucket_name": f"bucket-s{i}{suffix}"}
            if backend == "aws"
            else {"account_name": f"acc{i}{suffix[1:]}"},
            "domain": {"host": f"m{i}{suffix}.example.com", "cache": draw(st.booleans())},
        }
    return site


RULE_PATH = re.compile(r"^sites\[(\d+)\]\.(cache\.rules|images)\[(\d+)\]")


def _without_refused_rules(stacks: dict[str, dict[str, Any]], problems: list[Problem]) -> bool:
    """Drop the generated rules the config refuses (a rule a later one overrides entirely, criteria that never
    hold, query-string lists or Polish below their plan…), so that most draws stay valid; False if another
    problem."""
    doomed = set()
    for problem in problems:
        found = RULE_PATH.match(problem.path)
        if not found or problem.file not in stacks:
            return False
        doomed.add((problem.file, int(found.group(1)), found.group(2), int(found.group(3))))
    for stage, i, key, j in sorted(doomed, reverse=True):
        site = stacks[stage]["sites"][i]
        del (site["cache"]["rules"] if key == "cache.rules" else site["images"])[j]
    return True


@st.composite
def stack_files(
    draw: st.DrawFn, plans: Sequence[str] = tuple(RULES_PER_PHASE), max_sites: int = 3
) -> dict[str, dict[str, Any]]:
    """The raw stack files of a project: Live owning the zone and, sometimes, Test."""
    plan = draw(st.sampled_from(plans))
    n_sites = draw(st.integers(1, max_sites))
    stacks = {
        "live": {
            "stage": "live",
            "zones": {"example.com": {"id": "023e105f4ecef8ad9ca31a8372d0c353", "plan": plan}},
            "sites": [draw(sites(i, "")) for i in range(n_sites)],
        }
    }
    if draw(st.booleans()):
        stacks["test"] = {"stage": "test", "sites": [draw(sites(i, "-test")) for i in range(n_sites)]}
    return stacks


def loaded(stacks: dict[str, dict[str, Any]]) -> Project:
    """The project of ``stacks``, once the rules its config refuses are dropped (a draw rejected otherwise)."""
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


def projects(plans: Sequence[str] = tuple(RULES_PER_PHASE), max_sites: int = 3) -> st.SearchStrategy[Project]:
    return stack_files(plans, max_sites).map(loaded)


@st.composite
def changed(draw: st.DrawFn, stacks: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """``stacks`` after a pull request's change to one site: a cache rule dropped, added or replaced."""
    head = copy.deepcopy(stacks)
    stage = draw(st.sampled_from(sorted(head)))
    site = draw(st.sampled_from(head[stage]["sites"]))
    rules = site["cache"]["rules"]
    at = draw(st.integers(0, len(rules)))
    what = draw(st.sampled_from(["drop", "add", "replace"] if rules else ["add"]))
    if what != "add":
        at = min(at, len(rules) - 1)
        del rules[at]
    if what != "drop":
        rules.insert(at, {"name": f"pr{at}", **draw(rule_bodies(site["hosts"]))})
    return head


def sent_as(host: str, form: str) -> str:
    """A Host header for ``host``, in one of the forms clients send."""
    return {
        "lower": host,
        "upper": host.upper(),
        "mixed": host.capitalize(),
        "dot": host + ".",
        "UPDOT": host.upper() + ".",
    }[form]


def with_raw_expressions(request: Request) -> Request:
    """``request``, saying which of the raw expressions the rules may hold it satisfies: what their text says."""
    truths = {e: parse(e).matches(request) for e in EXPRESSIONS}
    assert None not in truths.values(), truths
    return Request(
        request.host,
        request.path,
        request.method,
        request.cookies,
        request.headers,
        request.headers_truncated,
        request.query_args,
        frozenset(e for e, truth in truths.items() if truth),
    )


requests = st.builds(
    lambda host, form, **kw: with_raw_expressions(Request(sent_as(host, form), **kw)),
    st.sampled_from(HOSTS),
    st.sampled_from(["lower", "lower", "upper", "mixed", "dot", "UPDOT"]),
    path=st.sampled_from(PATHS),
    method=st.sampled_from(["GET", "HEAD", "POST", "PROPFIND"]),
    cookies=st.frozensets(st.sampled_from(SENT_COOKIES), max_size=3),
    headers=st.frozensets(st.sampled_from(SENT_HEADERS), max_size=2),
    headers_truncated=st.booleans(),
    query_args=st.frozensets(st.sampled_from(SENT_QUERY_ARGS), max_size=2),
)


def text_matches(rule: CompiledRule, request: Request) -> bool:
    """Whether the deployed expression text matches ``request``; it must say what the model of the match says."""
    truth = parse(rule.expression).matches(request)
    assert truth is not None, f"cannot evaluate {rule.expression!r}"
    assert truth == rule.matches(request), (rule.names, rule.expression, request)
    return truth


def deployed(rules: Sequence[CompiledRule], request: Request) -> dict[str, Any]:
    """The settings that hold for ``request`` once every rule whose deployed text matches has applied, in order."""
    effective: dict[str, Any] = {}
    for rule in rules:
        if text_matches(rule, request):
            effective.update(rule.settings)
    return effective


SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(projects())
def test_every_expression_parses_with_wirefilter(config: Project) -> None:
    scoped = scoped_cache_rules(config, "example.com") + scoped_config_rules(config, "example.com")
    for rule in scoped + merge_rules(scoped):
        assert "error" not in octorules_wirefilter.parse_expression(rule.expression), rule.expression


@SETTINGS
@given(projects())
def test_rule_count_never_exceeds_the_plan_limit(config: Project) -> None:
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
def test_merging_never_changes_what_the_deployed_text_does(config: Project, reqs: list[Request]) -> None:
    for rules in (scoped_cache_rules(config, "example.com"), scoped_config_rules(config, "example.com")):
        merged = merge_rules(rules)
        for request in reqs:
            assert deployed(merged, request) == deployed(rules, request)


def django_query_names(query_args: frozenset[str]) -> set[str]:
    """The argument names Django's ``request.GET`` holds for the query string ``?a&b``."""
    if not django_settings.configured:
        django_settings.configure()  # Django's defaults: UTF-8, at most 1000 fields
    return set(QueryDict("&".join(sorted(query_args))).keys())


HOST_FORMS = ["lower", "upper", "mixed", "dot", "UPDOT"]
SAFETY_CARRIERS = ["session-cookie", "authorization", "truncated-headers", "admin", "cms-edit", "cms-wizard", "method"]
SESSION_SPELLINGS = ["{}=x", "{} =x", " {}=x", "{}=", '{}="v v"', "{}=1; {}=2"]
"""Cookie pairs Django's ``parse_cookie`` reads as the session (it strips names and values)."""
CMS_ARG_SPELLINGS = [
    lambda a: a,
    lambda a: "".join(f"%{ord(c):02x}" for c in a),
    lambda a: "".join(f"%{ord(c):02X}" for c in a),
    lambda a: f"%{ord(a[0]):02x}{a[1:]}",
    lambda a: f"{a[:-1]}%{ord(a[-1]):02X}",
]
"""Query argument names, as sent, that Django's ``QueryDict`` reads as the django CMS argument ``a``."""


@SETTINGS
@given(projects(), requests, st.data())
def test_safety_bypasses_hold_whatever_user_rules_come_before(
    config: Project, request: Request, data: st.DataObject
) -> None:
    """What Django reads as a session or as django CMS editing, Authorization, the admin and unsafe methods are
    never cache-eligible on app hosts, whatever random user rules say and however the Host header is written:
    each carrier, on every app host, in every form of the Host header."""
    rules = merge_rules(scoped_cache_rules(config, "example.com"))
    policies_ = {h: site.cache for _, site in config.sites_on("example.com") for h in site.hosts}
    for host, carrier, form in itertools.product(sorted(policies_), SAFETY_CARRIERS, HOST_FORMS):
        cookies, headers, path, method, args = request.cookies, request.headers, request.path, request.method, set()
        truncated = False
        if carrier == "session-cookie":
            name = data.draw(st.sampled_from(policies_[host].session_cookies))
            cookies = cookies | {data.draw(st.sampled_from(SESSION_SPELLINGS)).format(name, name)}
        elif carrier == "authorization":
            headers = headers | {data.draw(st.sampled_from(["Authorization", "authorization", "AUTHORIZATION"]))}
        elif carrier == "truncated-headers":
            truncated = True
        elif carrier == "admin":
            path = data.draw(st.sampled_from(["/admin", "/admin/", "/en/admin/blog/feed/", "/ADMIN/x.css", "//admin/"]))
        elif carrier == "cms-edit":
            arg = data.draw(st.sampled_from(defaults.CMS_EDIT_QUERY_ARGS))
            args = {data.draw(st.sampled_from(CMS_ARG_SPELLINGS))(arg)}
        elif carrier == "cms-wizard":
            path = data.draw(st.sampled_from(["/de/cms_wizard/create/", "/CMS_WIZARD", "/en/Cms_Wizard/x/"]))
        else:
            method = data.draw(st.sampled_from(["POST", "PUT", "PATCH", "DELETE", "OPTIONS"]))
        sent = with_raw_expressions(
            Request(
                sent_as(host, form), path, method, cookies, headers, truncated, frozenset(args) | request.query_args
            )
        )
        django_session = set(policies_[host].session_cookies) & set(parse_cookie(sent.cookie_header))
        django_editing = set(defaults.CMS_EDIT_QUERY_ARGS) & django_query_names(sent.query_args)
        assert carrier != "session-cookie" or django_session, sent.cookie_header
        assert carrier != "cms-edit" or django_editing, sent.query_args
        cache = deployed(rules, sent).get("cache")
        if form in ("dot", "UPDOT"):
            assert cache is not True  # no rule names the host with a trailing dot: none makes it cache-eligible
        else:
            assert cache is False, (carrier, sent)


def evaluated(zone: ZoneRules, request: Request, zone_polish: str) -> Outcome:
    """What Cloudflare does with ``request``: the deployed rules applied in order, only GET and HEAD cached."""
    if request.method not in ("GET", "HEAD"):
        return Outcome("bypassed")
    cache = deployed(zone.cache, request)
    config = None if cache.get("cache") is False else tuple(sorted(deployed(zone.config, request).items()))
    return effect_outcome(Effect(tuple(sorted(cache.items())), config), zone_polish)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(projects(), st.lists(requests, min_size=1, max_size=25))
def test_the_tables_row_for_a_request_agrees_with_the_deployed_text(config: Project, reqs: list[Request]) -> None:
    """Exactly one row covers each request to a host of the table (hosts in any case), and its outcome is what the
    deployed text does; read as the text shows it (each row minus the rows above it), the first row that covers
    the request is that row. A host the table does not list (``www.example.com.``) is matched by no rule."""
    try:
        zones = compile_zones(config)
    except ConfigError:
        assume(False)
        raise
    rows = behaviour_rows(config, zones)
    shown = shown_terms(rows)
    polish = config.zone("example.com").images.polish
    for request in reqs:
        host = request.host.lower()
        covering = [row for row in rows if row.matches(request)]
        if not any(host in row.hosts for row in rows):
            assert not covering
            assert not deployed(zones["example.com"].cache, request) and not deployed(
                zones["example.com"].config, request
            )
            continue
        assert len(covering) == 1, [r.requests for r in covering]
        assert covering[0].outcome == evaluated(zones["example.com"], request, polish), covering[0].requests
        first = next(
            row for row, terms in zip(rows, shown) if host in row.hosts and any(covers(dict(t), request) for t in terms)
        )
        assert first is covering[0]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(stack_files(("enterprise",)), st.data(), st.lists(requests, min_size=1, max_size=25))
def test_the_diff_says_exactly_which_requests_change(
    files: dict[str, dict[str, Any]], data: st.DataObject, reqs: list[Request]
) -> None:
    """Between a project and the same project after a change to one rule: a request whose outcome changes is
    covered by the changes that say its before and after, and no other; one whose outcome stays is covered by
    none, unless it is bypassed (or not served) on both sides: those the diff leaves out, so a change's words
    may cover them too."""
    head = loaded(data.draw(changed(files)))
    base = loaded(files)
    try:
        old, new = compile_zones(base)["example.com"], compile_zones(head)["example.com"]
    except ConfigError:
        assume(False)
        raise
    sides = [ZoneSide(z.cache, z.config, p.zone("example.com").images.polish) for z, p in ((old, base), (new, head))]
    sites = [
        [
            SiteHosts("example.com", ss.site, ss.stage, (*ss.hosts, *media_hosts(ss.media)))
            for ss in stages_on(p, "example.com")
        ]
        for p in (base, head)
    ]
    changes = behaviour_changes(sites[0], sites[1], {"example.com": sides[0]}, {"example.com": sides[1]})
    served = [{h for s in side for h in s.hosts} for side in sites]
    for request in reqs:
        host = request.host.lower()
        before, after = (
            evaluated(z, request, s.polish) if host in hosts else None
            for z, s, hosts in ((old, sides[0], served[0]), (new, sides[1], served[1]))
        )
        said = {
            (c.before, c.after)
            for c in changes
            if not c.note and host in c.hosts and any(covers(dict(t), request) for t in c.covers)
        }
        if {before, after} <= {None, Outcome("bypassed")}:
            continue  # left out, so any change's words may also cover it
        assert said == ({(before, after)} if before != after else set())
