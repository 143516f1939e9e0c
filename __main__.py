"""The appcdn program: stack config → components → exports. Run by ``pulumi up`` and by ``appcdn plan``."""

import json

import pulumi
import pulumi_cloudflare as cloudflare

from appcdn.config import NAMESPACE, ConfigError, parse_stack_config
from appcdn.policy.rulesets import compile_zones
from appcdn.policy.zone_settings import zone_settings
from components.app_hosts import AppHosts
from components.zone import Zone


def read_namespace() -> dict:
    """Every key the stack sets in the ``appcdn`` namespace, so that unknown keys can be reported."""
    prefix = NAMESPACE + ":"
    keys = {k for k in {**pulumi.runtime.config.get_config_env(), **pulumi.runtime.config.CONFIG.get()}
            if k.startswith(prefix)}
    config = pulumi.Config(NAMESPACE)
    out = {}
    for key in sorted(keys):
        raw = config.get(key[len(prefix):])
        try:
            out[key[len(prefix):]] = json.loads(raw)
        except (TypeError, ValueError):
            out[key[len(prefix):]] = raw
    return out


try:
    stack_config = parse_stack_config(read_namespace(), pulumi.get_stack())
    compiled = compile_zones(stack_config)
except ConfigError as err:
    raise pulumi.RunError(err.report()) from None

zone_ids = {}
for zone_name, zone_config in stack_config.zones.items():
    slug = zone_name.replace(".", "-")
    if zone_name in compiled:
        zone = Zone(slug, {
            "name": zone_name, "zone_id": zone_config.id, "account_id": zone_config.account_id,
            "settings": zone_settings(zone_config),
            "cache_rules": [r.to_rule() for r in compiled[zone_name].cache],
            "config_rules": [r.to_rule() for r in compiled[zone_name].config],
        })
        zone_ids[zone_name] = zone.zone_id
    elif zone_config.id:
        zone_ids[zone_name] = pulumi.Output.from_input(zone_config.id)
    else:
        zone_ids[zone_name] = cloudflare.get_zone_output(filter={"name": zone_name}).id

for site in stack_config.sites:
    if site.origin:
        AppHosts(f"{site.name}-{stack_config.stage}", {
            "zone_id": zone_ids[site.zone], "hosts": site.hosts, "origin": site.origin,
        })

pulumi.export("stage", stack_config.stage)
pulumi.export("zone_ids", zone_ids)
pulumi.export("sites", {s.name: {"hosts": s.hosts, "zone": s.zone} for s in stack_config.sites})
