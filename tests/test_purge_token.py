"""Least privilege by construction: per site and stage a Cloudflare API token that can only purge the site's zone,
exported as a secret in ``sites.<name>.app_env`` with the zone id and purge on (Live) or off (Test); opt-out for
users who bring their own token."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.conftest import ZONE_ID, appcdn, declare, project_of, raw_config

CACHE_PURGE = "e17beae8b8cb423a99b1730f21238bed"


def _declared(**app: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """(resources, the shop's app_env as exported) of a one-site stack whose app config is ``app``."""
    from appcdn.program.stack_program import declare as declare_program
    from appcdn.rules.rulesets import compile_zones

    project = project_of(raw_config(app=app))
    env: dict[str, Any] = {}

    def program() -> None:
        outputs = declare_program(project, compile_zones(project))
        outputs["sites"]["shop"]["app_env"]["CLOUDFLARE_ZONE_ID"].apply(lambda z: env.update(zone=z))

    resources = declare(program)
    return resources, env


def test_each_site_gets_a_token_that_can_only_purge_its_zone() -> None:
    resources, env = _declared()
    token = resources["shop-live-purge-token"]
    assert (token.type, token.parent) == ("cloudflare:index/apiToken:ApiToken", "shop-live-purge")
    assert token.inputs == {
        "name": "appcdn shop live: purge example.com",
        "policies": [
            {
                "effect": "allow",
                "permissionGroups": [{"id": CACHE_PURGE}],
                "resources": json.dumps({f"com.cloudflare.api.account.zone.{ZONE_ID}": "*"}),
            }
        ],
    }
    assert env == {"zone": ZONE_ID}


def test_users_who_bring_their_own_token_opt_out() -> None:
    resources, _ = _declared(purge_token=False)
    assert not [r for r in resources.values() if r.type == "cloudflare:index/apiToken:ApiToken"]


@pytest.mark.parametrize(("stack", "purge", "token"), [("test", "off", None), ("live", "on", "[secret]")])
def test_the_plan_exports_the_token_as_a_secret_on_live_with_the_zone_and_purge_per_stage(
    capsys: pytest.CaptureFixture[str], stack: str, purge: str, token: str | None
) -> None:
    code, out, _ = appcdn(capsys, "plan", "--stack", stack, "--json")
    assert code == 0
    shop = json.loads(out)["app_env"]["shop"]
    assert (shop.get("CLOUDFLARE_API_TOKEN"), shop["CLOUDFLARE_ZONE_ID"], shop["APPCDN_PURGE"]) == (
        token,
        ZONE_ID,
        purge,
    )
    assert shop["APPCDN_CLOUDFLARE_PLAN"] == "pro"  # the shipped zone's plan: the rate the app's purges keep
