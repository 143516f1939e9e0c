"""Each component under Pulumi's mock engine: what it registers, with which inputs and options."""

from collections.abc import Callable
from typing import Any, cast

import pytest

from appcdn.commands.plan.mock_engine import DeclaredResource, run_under_mocks
from appcdn.components.app_hosts import AppHosts
from appcdn.components.zone import Zone, ZoneArgs

RULE = {
    "ref": "r",
    "description": "d",
    "expression": 'http.host eq "a.example.com"',
    "action": "set_cache_settings",
    "action_parameters": {"cache": False},
    "enabled": True,
}


def declare(program: Callable[[], object]) -> dict[str, DeclaredResource]:
    return {r.name: r for r in run_under_mocks(program, "appcdn", "unit", {}, [])}


def zone_args(**kw: Any) -> ZoneArgs:
    """Valid Zone args, with ``kw`` replacing or adding keys (some deliberately invalid)."""
    return cast(
        ZoneArgs,
        {
            "name": "example.com",
            "zone_id": "zid",
            "account_id": None,
            "settings": {"ssl": "strict"},
            "cache_rules": [RULE],
            "config_rules": [],
            "cloud_connector_rules": [],
            **kw,
        },
    )


def test_zone_by_id_creates_no_zone_and_manages_settings_and_cache_rules() -> None:
    res = declare(lambda: Zone("z", zone_args()))
    assert res["z"].type == "appcdn:index:Zone"
    assert {r.type for r in res.values()} == {
        "appcdn:index:Zone",
        "cloudflare:index/zoneSetting:ZoneSetting",
        "cloudflare:index/ruleset:Ruleset",
    }
    assert res["z-ssl"].inputs == {"settingId": "ssl", "value": "strict", "zoneId": "zid"}
    assert res["z-ssl"].parent == "z"
    ruleset = res["z-cache-rules"].inputs
    assert ruleset["phase"] == "http_request_cache_settings" and ruleset["kind"] == "zone"
    assert ruleset["rules"] == [
        {
            "ref": "r",
            "description": "d",
            "expression": 'http.host eq "a.example.com"',
            "action": "set_cache_settings",
            "actionParameters": {"cache": False},
            "enabled": True,
        }
    ]


def test_zone_without_rules_leaves_the_phase_alone() -> None:
    res = declare(lambda: Zone("z", zone_args(cache_rules=[])))
    assert not [r for r in res.values() if r.type.endswith("Ruleset")]


def test_created_zone_is_retained_on_destroy() -> None:
    res = declare(lambda: Zone("z", zone_args(zone_id=None, account_id="acc")))
    zone = res["z-zone"]
    assert zone.type == "cloudflare:index/zone:Zone"
    assert zone.retain_on_delete
    assert zone.inputs == {"account": {"id": "acc"}, "name": "example.com", "type": "full"}
    assert res["z-ssl"].inputs["zoneId"] == "z-zone-id"  # settings hang off the new zone's id


@pytest.mark.parametrize("zone_id,account_id", [("zid", "acc"), (None, None)])
def test_zone_takes_exactly_one_of_id_and_account(zone_id: str | None, account_id: str | None) -> None:
    with pytest.raises(ValueError, match="exactly one of zone_id"):
        declare(lambda: Zone("z", zone_args(zone_id=zone_id, account_id=account_id)))


def test_app_hosts_are_proxied_cnames_to_the_origin() -> None:
    res = declare(
        lambda: AppHosts(
            "shop-live",
            {
                "zone_id": "zid",
                "hosts": ["www.example.com", "example.com"],
                "origin": "shop.eu.aldryn.io",
                "purpose": "app",
            },
        )
    )
    records = [r for r in res.values() if r.type == "cloudflare:index/dnsRecord:DnsRecord"]
    assert sorted(r.inputs["name"] for r in records) == ["example.com", "www.example.com"]
    for record in records:
        assert record.parent == "shop-live"
        assert record.inputs | {"name": None} == {
            "name": None,
            "type": "CNAME",
            "content": "shop.eu.aldryn.io",
            "proxied": True,
            "ttl": 1,
            "zoneId": "zid",
            "comment": "appcdn: app host",
        }
