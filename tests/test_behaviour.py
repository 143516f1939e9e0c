"""The plan's cache-behaviour table, from the compiled rules in Cloudflare's order."""

import pytest

from appcdn.config.cache import Match
from appcdn.policy.behaviour import behaviour_rows, describe, duration, representative
from appcdn.policy.rulesets import compile_zones
from tests.conftest import project_of, raw_config, test_stage


def rows_of(raw: dict, *peers: dict) -> dict[tuple[str, str, str], tuple[str, str, str, str]]:
    project = project_of(raw, *peers)
    return {(r.stage, r.hosts, r.requests): (r.cache, r.edge_ttl, r.browser_ttl, r.polish)
            for r in behaviour_rows(project, compile_zones(project))}


@pytest.mark.parametrize("seconds,text", [(31536000, "365d"), (7200, "2h"), (600, "10min"), (90, "90s")])
def test_durations_read_in_the_largest_whole_unit(seconds, text):
    assert duration(seconds) == text


def test_a_match_is_described_by_each_criterion():
    match = Match(hosts=["www.example.com"], path_prefixes=["/a/"], paths=["/b/*"], extensions=["css"],
                  methods=["GET"], cookies=["preview"], headers=["x-preview"], expression='http.request.uri.query eq "x"')
    assert describe(match) == ('host www.example.com /a/* /b/* *.css method GET cookie preview header x-preview '
                               'expr http.request.uri.query eq "x"')
    assert describe(Match()) == "any path"


def test_the_probe_request_satisfies_its_match():
    request = representative(Match(path_prefixes=["/media/"], extensions=["jpg"], methods=["HEAD"],
                                   cookies=["preview"]), ["www.example.com"])
    assert (request.host, request.path, request.method, request.cookies) == (
        "www.example.com", "/media/x.jpg", "HEAD", frozenset(["preview"]))


def test_live_rows_show_the_stage_defaults_and_the_session_bypass():
    rows = rows_of(raw_config())
    assert rows[("live", "www.example.com", "any path")] == ("cached", "origin, else bypass", "origin", "off")
    assert rows[("live", "www.example.com", "/static/*")] == ("cached", "30d", "origin", "off")
    assert rows[("live", "www.example.com", "*/admin[/*] (any case)")] == ("bypassed", "-", "-", "off")
    assert rows[("live", "www.example.com", "query ?edit|?preview|?structure|?toolbar_off")] == ("bypassed", "-", "-", "off")
    assert rows[("live", "www.example.com", "cookie sessionid")] == ("bypassed", "-", "-", "off")


def test_without_stage_defaults_unmatched_requests_fall_to_cloudflares_defaults():
    rows = rows_of(raw_config(cache={"stage_defaults": False, "rules": [
        {"name": "css", "action": "cache", "match": {"extensions": ["css"]}}]}))
    assert rows[("live", "www.example.com", "*.css")] == ("cached", "origin, else Cloudflare defaults", "origin", "off")


def test_image_rules_show_their_polish_and_the_zone_polish_elsewhere():
    raw = raw_config(images=[{"name": "p", "match": {"path_prefixes": ["/photos/"]}, "polish": "lossy"}])
    raw["zones"]["example.com"]["images"] = {"polish": "lossless"}
    rows = rows_of(raw)
    assert rows[("live", "www.example.com", "/photos/*")][3] == "lossy"
    assert rows[("live", "www.example.com", "any path")][3] == "lossless"


def test_the_owner_shows_every_stage_and_the_other_stack_only_its_own():
    owner = rows_of(raw_config(), test_stage())
    assert {stage for stage, _, _ in owner} == {"live", "test"}
    assert owner[("test", "test.example.com", "any path")] == ("bypassed", "-", "-", "off")
    other = rows_of(test_stage(), raw_config())
    assert {stage for stage, _, _ in other} == {"test"}
    assert other == {key: value for key, value in owner.items() if key[0] == "test"}


def test_media_domain_rows_follow_the_header_rules():
    rows = rows_of(raw_config(media={"backend": "aws", "domain": {"host": "media.example.com"}}))
    assert rows[("live", "media.example.com", "/filer_public_thumbnails/*")] == ("cached", "365d", "365d", "off")
    assert rows[("live", "media.example.com", "/*")] == ("cached", "1h", "1h", "off")
