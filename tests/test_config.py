"""The config model: every default, and every invalid combination with the reasons reported."""

from collections.abc import Sequence
from typing import Any

import pytest

from appcdn.config.project import parse_stack_config
from tests.conftest import problems_of, project_of, raw_config, test_stage


def test_stage_defaults_to_the_stack_name() -> None:
    raw = raw_config()
    del raw["stage"]
    assert parse_stack_config(raw, "live").stage == "live"


def test_stage_is_required_when_the_stack_name_is_not_a_stage() -> None:
    raw = raw_config()
    del raw["stage"]
    assert problems_of(raw, stack="prod") == ["stage: Field required"]


def test_zone_defaults_are_secure() -> None:
    zone = parse_stack_config(raw_config(), "live").zones["example.com"]
    assert zone.settings.ssl == "strict"
    assert zone.settings.min_tls_version == "1.2"
    assert zone.settings.tls_1_3 == "on"
    assert zone.settings.always_use_https and zone.settings.automatic_https_rewrites and zone.settings.http3
    assert zone.images.polish == "off" and not zone.images.webp


def test_plan_defaults_to_free() -> None:
    raw = raw_config()
    del raw["zones"]["example.com"]["plan"]
    assert parse_stack_config(raw, "live").zones["example.com"].plan == "free"


def test_session_cookie_defaults_to_djangos() -> None:
    assert parse_stack_config(raw_config(), "live").sites[0].cache.session_cookies == ["sessionid"]


def test_session_cookies_must_be_cookie_names() -> None:
    assert problems_of(raw_config(cache={"session_cookies": ["sessionid", "bad cookie"]})) == [
        "sites[0].cache.session_cookies[1]: 'bad cookie' is not a cookie name"
    ]


def test_session_cookies_cannot_be_empty_which_the_policy_pack_would_refuse() -> None:
    assert problems_of(raw_config(cache={"session_cookies": []})) == [
        "sites[0].cache.session_cookies: name at least one cookie (Django's SESSION_COOKIE_NAME, default "
        "sessionid): without one, requests of logged-in users could be cached and served to others"
    ]


def test_origin_must_be_a_host_name() -> None:
    assert problems_of(raw_config(origin="https://shop.eu.aldryn.io/")) == [
        "sites[0].origin: 'https://shop.eu.aldryn.io/' is not a host name (a DNS name such as www.example.com)"
    ]


def test_hosts_and_extensions_are_normalised() -> None:
    raw = raw_config(
        hosts=["WWW.Example.com"],
        cache={"rules": [{"name": "img", "action": "cache", "match": {"extensions": [".JPG"], "methods": ["get"]}}]},
    )
    site = parse_stack_config(raw, "live").sites[0]
    assert site.hosts == ["www.example.com"]
    assert site.cache.rules[0].match.extensions == ["jpg"]
    assert site.cache.rules[0].match.methods == ["GET"]


def test_unknown_keys_are_errors_at_every_level() -> None:
    raw = raw_config(colour="blue")
    raw["zones"]["example.com"]["settings"] = {"ssl": "strict", "tls": "1.3"}
    raw["extra"] = 1
    assert problems_of(raw) == [
        "extra: unknown key",
        "sites[0].colour: unknown key",
        "zones.example.com.settings.tls: unknown key",
    ]


def test_all_problems_are_reported_together() -> None:
    raw = raw_config(plan="free", hosts=["www.other.org"])
    raw["zones"]["example.com"]["images"] = {"polish": "lossy", "mirage": True}
    assert len(problems_of(raw)) == 3


def test_structure_errors_name_the_allowed_values() -> None:
    raw = raw_config()
    raw["zones"]["example.com"]["plan"] = "gold"
    [problem] = problems_of(raw)
    assert problem.startswith("zones.example.com.plan: 'gold' is not allowed;")
    assert all(tier in problem for tier in ("'free'", "'pro'", "'business'", "'enterprise'"))


def test_existing_zone_and_new_zone_together_is_an_error() -> None:
    raw = raw_config()
    raw["zones"]["example.com"]["account_id"] = "f037e56e89293a057740de681ac9abbe"
    assert problems_of(raw) == [
        "zones.example.com: give id to use an existing zone or account_id to create one, not both"
    ]


@pytest.mark.parametrize(
    "key,value",
    [
        ("id", "023E105F4ECEF8AD9CA31A8372D0C353"),
        ("id", "023e105f4ecef8ad9ca31a8372d0c35"),
        ("id", "example.com"),
        ("account_id", "f037e56e89293a057740de681ac9abbe0"),
    ],
)
def test_zone_and_account_ids_are_32_lower_case_hexadecimal_characters(key: str, value: str) -> None:
    """Any text was once accepted, and printed by the plan (a token pasted as the id included)."""
    raw = raw_config()
    raw["zones"]["example.com"] = {key: value}
    words = key.replace("_", " ")
    assert problems_of(raw) == [
        f"zones.example.com.{key}: {value!r} is not a Cloudflare {words} (32 lower-case hexadecimal characters, as "
        "the dashboard's Overview page shows it)"
    ]


def test_the_stack_that_declares_a_zone_must_reference_or_create_it() -> None:
    raw = raw_config()
    del raw["zones"]["example.com"]["id"]
    assert problems_of(raw) == [
        "zones.example.com: give id (existing zone) or account_id (create it): the stack that declares a zone "
        "manages it"
    ]


def test_a_stage_without_zones_serves_sites_on_the_zone_another_stack_file_declares() -> None:
    project = project_of(test_stage(), raw_config())
    assert project.stage == "test" and not project.owns("example.com")
    assert project.zone_owner("example.com") == "live"
    assert project.zone("example.com").plan == "pro"


def test_a_zone_declared_in_two_stack_files_is_an_error_naming_both() -> None:
    test = test_stage()
    test["zones"] = {"example.com": {"id": "0c1e2f3a4b5c6d7e8f901a2b3c4d5e6f", "plan": "free"}}
    assert problems_of(raw_config(), test) == [
        "Pulumi.test.yaml: zones.example.com: also declared in Pulumi.own.yaml; a zone is declared in exactly one "
        "stack file, its owner's"
    ]


def test_two_stack_files_of_one_stage_are_an_error() -> None:
    other = raw_config(hosts=["shop.example.com"])
    del other["zones"]
    assert problems_of(raw_config(), other) == [
        "Pulumi.live.yaml: stage: 'live' is also the stage of Pulumi.own.yaml; each stage has one stack file"
    ]


def test_each_stage_is_checked_against_the_zone_its_owner_declares() -> None:
    test = test_stage(
        images=[{"name": "p", "match": {}, "polish": "lossy"}],
        cache={
            "rules": [
                {
                    "name": "r",
                    "action": "cache",
                    "match": {"path_prefixes": ["/a/"]},
                    "responses_set_no_cookies": True,
                    "edge_ttl": {"mode": "override_origin", "default": 60},
                }
            ]
        },
    )
    assert problems_of(raw_config(plan="free"), test) == [
        "Pulumi.test.yaml: sites[0].cache.rules[0].edge_ttl.default: 60 s is below the free plan's minimum edge "
        "TTL of 7200 s",
        "Pulumi.test.yaml: sites[0].images[0].polish: Polish needs the pro plan or above; the zone is on free",
    ]


def test_problems_in_another_stage_s_file_stop_this_stack_too() -> None:
    test = test_stage(hosts=["test.example.org"])
    assert problems_of(raw_config(), test) == [
        "Pulumi.test.yaml: sites[0].hosts: 'test.example.org' is outside the site's zone example.com"
    ]


@pytest.mark.parametrize("key,where", [("owner", "zones.example.com"), ("other_stages", "sites[0]")])
def test_removed_keys_say_where_their_facts_live_now(key: str, where: str) -> None:
    raw = raw_config()
    if key == "owner":
        raw["zones"]["example.com"]["owner"] = "live"
    else:
        raw["sites"][0]["other_stages"] = {"test": {"hosts": ["test.example.com"]}}
    [problem] = problems_of(raw)
    assert problem.startswith(f"{where}.{key}: unknown key: ")
    assert "its own stack file" in problem or "declare it there only" in problem


def test_mirage_is_retired() -> None:
    raw = raw_config()
    raw["zones"]["example.com"]["images"] = {"mirage": True}
    [problem] = problems_of(raw)
    assert "Mirage was retired by Cloudflare" in problem and "January 2026" in problem
    assert "polish" in problem and "srcset" in problem


def test_polish_needs_pro() -> None:
    raw = raw_config(plan="free")
    raw["zones"]["example.com"]["images"] = {"polish": "lossless"}
    assert problems_of(raw) == [
        "zones.example.com.images.polish: Polish needs the pro plan or above; the zone is on free"
    ]


def test_per_path_polish_needs_pro() -> None:
    raw = raw_config(
        plan="free", images=[{"name": "photos", "match": {"path_prefixes": ["/media/"]}, "polish": "lossy"}]
    )
    assert problems_of(raw) == ["sites[0].images[0].polish: Polish needs the pro plan or above; the zone is on free"]


def test_webp_needs_polish_on() -> None:
    raw = raw_config()
    raw["zones"]["example.com"]["images"] = {"webp": True}
    assert problems_of(raw) == ["zones.example.com.images.webp: WebP needs Polish on (lossless or lossy)"]


@pytest.mark.parametrize("ssl", ["off", "flexible"])
def test_plain_http_to_the_origin_is_not_offered(ssl: str) -> None:
    raw = raw_config()
    raw["zones"]["example.com"]["settings"] = {"ssl": ssl}
    [problem] = problems_of(raw)
    assert problem.startswith(f"zones.example.com.settings.ssl: '{ssl}' is not allowed;")


def test_tls_below_1_2_is_not_offered() -> None:
    raw = raw_config()
    raw["zones"]["example.com"]["settings"] = {"min_tls_version": "1.0"}
    [problem] = problems_of(raw)
    assert problem.startswith("zones.example.com.settings.min_tls_version: '1.0' is not allowed;")


def _rule(**kw: Any) -> dict[str, Any]:
    return {"name": "r", "action": "cache", "responses_set_no_cookies": True, **kw}


@pytest.mark.parametrize("plan,minimum", [("free", 7200), ("pro", 3600)])
def test_edge_ttl_below_the_plan_minimum(plan: str, minimum: int) -> None:
    raw = raw_config(plan=plan, cache={"rules": [_rule(edge_ttl={"mode": "override_origin", "default": 60})]})
    if plan == "free":
        raw["zones"]["example.com"]["images"] = {}
    assert problems_of(raw) == [
        f"sites[0].cache.rules[0].edge_ttl.default: 60 s is below the {plan} plan's minimum edge TTL of {minimum} s"
    ]


@pytest.mark.parametrize("plan", ["business", "enterprise"])
def test_one_second_edge_ttl_from_business(plan: str) -> None:
    raw = raw_config(plan=plan, cache={"rules": [_rule(edge_ttl={"mode": "override_origin", "default": 1})]})
    edge_ttl = parse_stack_config(raw, "live").sites[0].cache.rules[0].edge_ttl
    assert edge_ttl is not None and edge_ttl.default == 1


def test_status_code_ttls_respect_the_minimum_but_allow_no_cache_and_no_store() -> None:
    raw = raw_config(
        cache={
            "rules": [
                _rule(
                    edge_ttl={
                        "mode": "respect_origin",
                        "status_codes": [
                            {"code": 404, "ttl": 0},
                            {"code": 410, "ttl": -1},
                            {"from": 500, "to": 599, "ttl": 60},
                        ],
                    }
                )
            ]
        }
    )
    assert problems_of(raw) == [
        "sites[0].cache.rules[0].edge_ttl.status_codes[2].ttl: 60 s is below the pro plan's minimum edge TTL of 3600 s"
    ]


def test_status_code_range_must_be_ordered_and_exclusive_with_code() -> None:
    raw = raw_config(
        cache={
            "rules": [
                _rule(
                    edge_ttl={
                        "status_codes": [
                            {"from": 599, "to": 500, "ttl": 0},
                            {"code": 404, "from": 400, "ttl": 0},
                            {"ttl": 0},
                        ]
                    }
                )
            ]
        }
    )
    assert problems_of(raw) == [
        "sites[0].cache.rules[0].edge_ttl.status_codes[0]: from 599 is above to 500",
        "sites[0].cache.rules[0].edge_ttl.status_codes[1]: give either code, or from and/or to",
        "sites[0].cache.rules[0].edge_ttl.status_codes[2]: give either code, or from and/or to",
    ]


def test_override_needs_a_ttl_and_other_modes_take_none() -> None:
    raw = raw_config(
        cache={
            "rules": [
                _rule(edge_ttl={"mode": "override_origin"}, browser_ttl={"mode": "respect_origin", "default": 60})
            ]
        }
    )
    assert problems_of(raw) == [
        "sites[0].cache.rules[0].browser_ttl.default: only allowed with mode override_origin, not respect_origin",
        "sites[0].cache.rules[0].edge_ttl.default: required when mode is override_origin",
    ]


def test_bypass_takes_no_cache_settings() -> None:
    raw = raw_config(
        cache={
            "rules": [{"name": "r", "action": "bypass", "edge_ttl": {"mode": "respect_origin"}, "serve_stale": True}]
        }
    )
    assert problems_of(raw) == [
        "sites[0].cache.rules[0]: a bypass rule takes no cache settings; remove edge_ttl, serve_stale"
    ]


def test_query_string_takes_include_or_exclude() -> None:
    raw = raw_config(cache={"rules": [_rule(cache_key={"query_string": {"include": ["a"], "exclude": ["b"]}})]})
    assert problems_of(raw) == [
        "sites[0].cache.rules[0].cache_key.query_string: give exactly one of include or exclude"
    ]


def test_regex_needs_business() -> None:
    raw = raw_config(cache={"rules": [_rule(match={"expression": 'http.request.uri.path matches "^/a+"'})]})
    [problem] = problems_of(raw)
    assert problem.startswith("sites[0].cache.rules[0].match.expression: regex matching")
    assert "business plan or above; the zone is on pro" in problem


def test_regex_is_fine_on_business() -> None:
    raw = raw_config(plan="business", cache={"rules": [_rule(match={"expression": 'http.request.uri.path ~ "^/a+"'})]})
    assert parse_stack_config(raw, "live").sites[0].cache.rules[0].match.expression


@pytest.mark.parametrize(
    "expression, reason",
    [
        ("http.host eq", "unrecognised input at 1:13"),
        ('http.foo eq "a"', "unknown identifier 'http.foo' at 1:1"),
    ],
)
def test_raw_expression_must_parse_and_the_message_keeps_wirefilters_reason(expression: str, reason: str) -> None:
    raw = raw_config(cache={"rules": [_rule(match={"expression": expression})]})
    assert problems_of(raw) == [
        f"sites[0].cache.rules[0].match.expression: {expression!r} is not a valid Cloudflare rules expression: {reason}"
    ]


@pytest.mark.parametrize("glob", ["/media/[ab]", "/x?y", "media/*", '/a"b'])
def test_invalid_globs(glob: str) -> None:
    raw = raw_config(cache={"rules": [_rule(match={"paths": [glob]})]})
    [problem] = problems_of(raw)
    assert problem.startswith("sites[0].cache.rules[0].match.paths[0]:")
    assert "'*' is the only wildcard" in problem


def test_invalid_methods_headers_and_names() -> None:
    raw = raw_config(
        cache={"rules": [_rule(name="Static Files", match={"methods": ["FETCH"], "headers": ["bad header"]})]}
    )
    assert problems_of(raw) == [
        "sites[0].cache.rules[0].match.headers[0]: 'bad header' is not a header name",
        "sites[0].cache.rules[0].match.methods[0]: 'FETCH' is not an HTTP method; "
        "allowed: GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS",
        "sites[0].cache.rules[0].name: 'Static Files' is not a name (lower-case letters, digits and '-', at most 31)",
    ]


def test_session_rule_names_are_reserved() -> None:
    raw = raw_config(cache={"rules": [{"name": "session", "action": "bypass"}]})
    assert problems_of(raw) == [
        "sites[0].cache.rules[0].name: 'session' is reserved for a safety bypass, which always comes last"
    ]


def test_duplicate_rule_names() -> None:
    raw = raw_config(
        cache={
            "rules": [
                {"name": "a", "action": "bypass", "match": {"path_prefixes": ["/a/"]}},
                {"name": "a", "action": "bypass", "match": {"path_prefixes": ["/b/"]}},
            ]
        }
    )
    assert problems_of(raw) == [
        "sites[0].cache.rules[0].name: 'a' is used by more than one rule",
        "sites[0].cache.rules[1].name: 'a' is used by more than one rule",
    ]


def test_rule_hosts_must_be_the_sites_own() -> None:
    raw = raw_config(cache={"rules": [{"name": "a", "action": "bypass", "match": {"hosts": ["api.example.com"]}}]})
    assert problems_of(raw) == [
        "sites[0].cache.rules[0].match.hosts: 'api.example.com' is not one of the site's hosts on this stage "
        "(www.example.com)"
    ]


def test_hosts_must_be_in_the_zone_and_served_once_in_the_project() -> None:
    raw = raw_config(hosts=["www.example.com", "www.example.org"])
    assert problems_of(raw, test_stage(hosts=["www.example.com"])) == [
        "Pulumi.own.yaml: sites[0].hosts: 'www.example.com' is already served by site shop (test, Pulumi.test.yaml)",
        "Pulumi.own.yaml: sites[0].hosts: 'www.example.org' is outside the site's zone example.com",
    ]


def test_site_zone_must_be_declared_in_some_stack_file() -> None:
    assert problems_of(raw_config(zone="example.org")) == [
        "sites[0].zone: 'example.org' is not declared under zones in any stack file of the project "
        "(declared: example.com)"
    ]


# --- certificates -------------------------------------------------------------------------------------


def _cert(**kw: Any) -> dict[str, Any]:
    return {"name": "c", "mode": "advanced", "hosts": ["example.com", "www.example.com"], **kw}


def _with_certs(
    *certs: dict[str, Any], plan: str = "pro", hosts: Sequence[str] = ("www.example.com", "example.com")
) -> dict[str, Any]:
    return raw_config(plan=plan, hosts=list(hosts), certificates=list(certs))


def test_universal_ssl_is_the_default() -> None:
    assert parse_stack_config(raw_config(), "live").sites[0].certificates == []


def test_advanced_pack_must_include_the_apex_and_hold_at_most_50_hosts() -> None:
    hosts = [f"h{i}.example.com" for i in range(51)]
    assert problems_of(_with_certs(_cert(hosts=hosts), hosts=hosts)) == [
        "sites[0].certificates[0].hosts: an advanced certificate pack holds at most 50 hosts",
        "sites[0].certificates[0].hosts: an advanced certificate pack must include the zone apex example.com",
    ]


def test_advanced_validity_depends_on_the_authority() -> None:
    assert problems_of(_with_certs(_cert(certificate_authority="lets_encrypt", validity_days=365))) == [
        "sites[0].certificates[0].validity_days: lets_encrypt issues for 90 days"
    ]


def test_uploaded_certificates_need_business() -> None:
    problems = problems_of(_with_certs(_cert(mode="uploaded", certificate="PEM", private_key="KEY")))
    assert (
        "sites[0].certificates[0].mode: an uploaded certificate (custom SSL) needs the business plan or above; "
        "the zone is on pro. Use advanced or the default Universal SSL" in problems
    )


def test_uploaded_certificate_and_key_are_required_and_must_be_secrets() -> None:
    assert problems_of(_with_certs(_cert(mode="uploaded", certificate="PEM"), plan="business")) == [
        "sites[0].certificates[0].certificate: must be a secret: pulumi config set --secret --path "
        "'appcdn:sites[0].certificates[0].certificate' < file.pem",
        "sites[0].certificates[0].private_key: required for an uploaded certificate (PEM, set with --secret)",
    ]
    raw = _with_certs(_cert(mode="uploaded", certificate="PEM", private_key="KEY"), plan="business")
    cert = parse_stack_config(raw, "live", secret_keys=["appcdn:sites"]).sites[0].certificates[0]
    assert cert.private_key is not None
    assert "KEY" not in repr(cert) and cert.private_key.get_secret_value() == "KEY"


def test_pem_only_for_uploaded() -> None:
    assert problems_of(
        _with_certs(_cert(private_key="KEY")),
    ) == [
        "sites[0].certificates[0]: private_key only for mode uploaded, not advanced",
        "sites[0].certificates[0].private_key: must be a secret: pulumi config set --secret --path "
        "'appcdn:sites[0].certificates[0].private_key' < file.pem",
    ]


def test_origin_ca_needs_strict_ssl_and_a_valid_validity() -> None:
    raw = _with_certs(_cert(mode="origin_ca", validity_days=100))
    raw["zones"]["example.com"]["settings"] = {"ssl": "full"}
    assert problems_of(raw) == [
        "sites[0].certificates[0].mode: an Origin CA certificate is for SSL mode strict; the zone uses full",
        "sites[0].certificates[0].validity_days: Origin CA issues for 7, 30, 90, 365, 730, 1095, 5475 days",
    ]


def test_certificate_hosts_are_the_sites_own_and_covered_once_at_the_edge() -> None:
    raw = _with_certs(
        _cert(),
        _cert(name="d", hosts=["www.example.com", "shop.example.org"]),
        _cert(name="o", mode="origin_ca", hosts=["www.example.com"]),
    )
    assert problems_of(raw) == [
        "sites[0].certificates[1].hosts: 'shop.example.org' is not one of the site's hosts on this stage "
        "(www.example.com, example.com)",
        "sites[0].certificates[1].hosts: 'www.example.com' already has an edge certificate: 'c'",
        "sites[0].certificates[1].hosts: an advanced certificate pack must include the zone apex example.com",
    ]


def test_certificates_may_cover_the_media_domain() -> None:
    raw = _with_certs(_cert(hosts=["example.com", "media.example.com"]))
    raw["sites"][0]["media"] = {"backend": "aws", "domain": {"host": "media.example.com"}}
    assert parse_stack_config(raw, "live").sites[0].certificates[0].hosts == ["example.com", "media.example.com"]


def test_acm_takes_no_validity() -> None:
    assert problems_of(_with_certs(_cert(mode="acm", validity_days=90))) == [
        "sites[0].certificates[0].validity_days: ACM sets the validity itself"
    ]
