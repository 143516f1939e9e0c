"""``Zone``: a Cloudflare zone (existing or created), its baseline settings and its phase rulesets."""

from collections.abc import Mapping, Sequence
from typing import NotRequired, TypedDict, cast

import pulumi
import pulumi_cloudflare as cloudflare

from appcdn import resource_names
from appcdn.components.zone_rules import ConnectorRule, PhaseRule

CACHE_PHASE = "http_request_cache_settings"
CONFIG_PHASE = "http_config_settings"


class ZoneArgs(TypedDict):
    name: str
    """Apex domain of the zone, e.g. ``example.com``."""
    zone_id: NotRequired[str | None]
    """Use this existing zone. Exclusive with ``account_id``."""
    account_id: NotRequired[str | None]
    """Create the zone in this account (retained on destroy). Exclusive with ``zone_id``."""
    settings: Mapping[str, str]
    """Zone settings to manage, ``setting_id`` → value (see ``appcdn.rules.zone_settings``)."""
    cache_rules: Sequence[PhaseRule]
    """Rules of the ``http_request_cache_settings`` phase, in order; none means the phase is left alone."""
    config_rules: Sequence[PhaseRule]
    """Rules of the ``http_config_settings`` phase, in order; none means the phase is left alone."""
    cloud_connector_rules: Sequence[ConnectorRule]
    """The zone's Cloud Connector rules (media hosts → buckets); the list is replaced whole on update."""


class Zone(pulumi.ComponentResource):
    """Owns a zone's settings, its cache and configuration phase rulesets and its Cloud Connector rules.

    Cloudflare allows one zone-level entry-point ruleset per phase, so exactly one stack may declare
    this component for a zone (the zone's owner); other stacks only add host names.
    A zone this component creates is retained on ``destroy``: deleting a zone takes its DNS with it.
    """

    zone_id: pulumi.Output[str]
    """The zone's id (given, or the created zone's)."""
    settings: dict[str, cloudflare.ZoneSetting]
    """The managed zone settings, by ``setting_id``."""
    cache_ruleset: cloudflare.Ruleset | None
    """The zone's cache-rules entry point; None when there are no cache rules."""
    config_ruleset: cloudflare.Ruleset | None
    """The zone's configuration-rules entry point; None when there are no configuration rules."""
    cloud_connector: cloudflare.CloudConnectorRules | None
    """The zone's Cloud Connector rules; None when there are none."""

    def __init__(self, name: str, args: ZoneArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(resource_names.ZONE_TYPE, name, {}, opts)
        if bool(args.get("zone_id")) == bool(args.get("account_id")):
            raise ValueError("Zone takes exactly one of zone_id (existing zone) and account_id (create)")
        child = pulumi.ResourceOptions(parent=self)
        account_id = args.get("account_id")
        if account_id:
            zone = cloudflare.Zone(
                resource_names.zone_resource(name),
                name=args["name"],
                account={"id": account_id},
                type="full",
                opts=pulumi.ResourceOptions(parent=self, retain_on_delete=True),
            )
            self.zone_id = zone.id
        else:
            self.zone_id = pulumi.Output.from_input(args.get("zone_id") or "")

        self.settings = {
            setting_id: cloudflare.ZoneSetting(
                resource_names.zone_setting(name, setting_id),
                zone_id=self.zone_id,
                setting_id=setting_id,
                value=value,
                opts=child,
            )
            for setting_id, value in sorted(args["settings"].items())
        }
        self.cache_ruleset = self._phase_ruleset(resource_names.cache_ruleset(name), CACHE_PHASE, args["cache_rules"])
        self.config_ruleset = self._phase_ruleset(
            resource_names.config_ruleset(name), CONFIG_PHASE, args["config_rules"]
        )
        self.cloud_connector = (
            cloudflare.CloudConnectorRules(
                resource_names.cloud_connector(name),
                zone_id=self.zone_id,
                rules=cast(list[cloudflare.CloudConnectorRulesRuleArgsDict], list(args["cloud_connector_rules"])),
                opts=child,
            )
            if args["cloud_connector_rules"]
            else None
        )
        self.register_outputs({"zone_id": self.zone_id})

    def _phase_ruleset(self, name: str, phase: str, rules: Sequence[PhaseRule]) -> cloudflare.Ruleset | None:
        if not rules:
            return None
        return cloudflare.Ruleset(
            name,
            zone_id=self.zone_id,
            kind="zone",
            phase=phase,
            name=f"appcdn {phase}",
            description="Managed by appcdn; edits are overwritten",
            rules=cast(list[cloudflare.RulesetRuleArgsDict], list(rules)),
            opts=pulumi.ResourceOptions(parent=self),
        )
