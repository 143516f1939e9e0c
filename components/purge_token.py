"""``PurgeToken``: a Cloudflare API token that can only purge one zone's cache, for the app's purge on change."""

import json
from typing import TypedDict

import pulumi
import pulumi_cloudflare as cloudflare

from appcdn import defaults, resource_names


class PurgeTokenArgs(TypedDict):
    zone_id: pulumi.Input[str]
    """The only zone the token may purge."""
    token_name: str
    """The token's name in Cloudflare's list of API tokens."""


def zone_resources(zone_id: str) -> str:
    """A token policy's resources: this one zone, as the JSON text the provider takes."""
    return json.dumps({f"com.cloudflare.api.account.zone.{zone_id}": "*"})


class PurgeToken(pulumi.ComponentResource):
    """One policy: allow Zone → Cache Purge on one zone; nothing else."""

    value: pulumi.Output[str]
    """The token, a secret."""

    def __init__(self, name: str, args: PurgeTokenArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(resource_names.PURGE_TOKEN_TYPE, name, {}, opts)
        token = cloudflare.ApiToken(
            resource_names.api_token(name),
            name=args["token_name"],
            policies=[
                {
                    "effect": "allow",
                    "permission_groups": [{"id": defaults.CACHE_PURGE_PERMISSION_GROUP}],
                    "resources": pulumi.Output.from_input(args["zone_id"]).apply(zone_resources),
                }
            ],
            opts=pulumi.ResourceOptions(parent=self, additional_secret_outputs=["value"]),
        )
        self.value = pulumi.Output.secret(token.value)
        self.register_outputs({"value": self.value})
