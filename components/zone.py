"""``Zone``: a Cloudflare zone (existing or created), its baseline settings and its phase rulesets."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NotRequired, TypedDict

import pulumi
import pulumi_cloudflare as cloudflare



class ZoneArgs(TypedDict):
    name: str
    """Apex domain of the zone, e.g. ``example.com``."""
    zone_id: NotRequired[str | None]
    """Use this existing zone. Exclusive with ``account_id``."""
    account_id: NotRequired[str | None]
    """Create the zone in this account. Exclusive with ``zone_id``."""
    settings: Mapping[str, str]
    """Zone settings to manage, ``setting_id`` → value (see ``appcdn.policy.zone_settings``)."""
    cache_rules: Sequence[Mapping[str, Any]]
    """Rules of the ``http_request_cache_settings`` phase, in order; none means the phase is left alone."""
    config_rules: Sequence[Mapping[str, Any]]
    """Rules of the ``http_config_settings`` phase, in order; none means the phase is left alone."""
    cloud_connector_rules: Sequence[pulumi.Input[Mapping[str, Any]]]
    """The zone's Cloud Connector rules (media hosts → buckets); the list is replaced whole on update."""


class Zone(pulumi.ComponentResource):
    """Owns a zone's settings, its cache and configuration phase rulesets and its Cloud Connector rules.

    Cloudflare allows one zone-level entry-point ruleset per phase, so exactly one stack may declare
    this component for a zone (the zone's owner); other stacks only add host names.
    A zone this component creates is retained on ``destroy``: deleting a zone takes its DNS with it.
    """

    zone_id: pulumi.Output[str]
    cache_ruleset_id: pulumi.Output[str | None]
    config_ruleset_id: pulumi.Output[str | None]

    def __init__(self, name: str, args: ZoneArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("appcdn:index:Zone", name, {}, opts)
        if bool(args.get("zone_id")) == bool(args.get("account_id")):
            raise ValueError("Zone takes exactly one of zone_id (existing zone) and account_id (create)")
        child = pulumi.ResourceOptions(parent=self)
        if args.get("account_id"):
            zone = cloudflare.Zone(f"{name}-zone", name=args["name"], account={"id": args["account_id"]},
                                   type="full", opts=pulumi.ResourceOptions(parent=self, retain_on_delete=True))
            self.zone_id = zone.id
        else:
            self.zone_id = pulumi.Output.from_input(args["zone_id"])

        for setting_id, value in sorted(args["settings"].items()):
            cloudflare.ZoneSetting(f"{name}-{setting_id.replace('_', '-')}", zone_id=self.zone_id,
                                   setting_id=setting_id, value=value, opts=child)

        self.cache_ruleset_id = self._phase_ruleset(name, "cache-rules", "http_request_cache_settings",
                                                    args["cache_rules"], child)
        self.config_ruleset_id = self._phase_ruleset(name, "config-rules", "http_config_settings",
                                                     args["config_rules"], child)
        if args["cloud_connector_rules"]:
            cloudflare.CloudConnectorRules(f"{name}-cloud-connector", zone_id=self.zone_id,
                                           rules=list(args["cloud_connector_rules"]), opts=child)
        self.register_outputs({"zone_id": self.zone_id, "cache_ruleset_id": self.cache_ruleset_id,
                               "config_ruleset_id": self.config_ruleset_id})

    def _phase_ruleset(self, name: str, suffix: str, phase: str, rules: Sequence[Mapping[str, Any]],
                       opts: pulumi.ResourceOptions) -> pulumi.Output[str | None]:
        if not rules:
            return pulumi.Output.from_input(None)
        ruleset = cloudflare.Ruleset(f"{name}-{suffix}", zone_id=self.zone_id, kind="zone", phase=phase,
                                     name=f"appcdn {phase}", description="Managed by appcdn; edits are overwritten",
                                     rules=list(rules), opts=opts)
        return ruleset.id
