"""``appcdn adopt``: take over a zone that is already live, through a Pulumi bulk import file.

For every zone the stack owns: the entry points of the phases the program writes, the Cloud Connector rules
(and the zone itself, when the stack would create it and it already exists); on every zone the stack serves:
the DNS records of the hosts it declares. Only what exists and what the program declares is listed, under
the program's own logical names, types and parents (``appcdn.resource_names``), with the import ids
pulumi-cloudflare v6 takes: ``zones/<zone_id>/<ruleset_id>``, ``<zone_id>/<dns_record_id>``, ``<zone_id>``.
Components are listed as ``component: true`` entries that their children name as ``parent`` (the form
``pulumi preview --import-file`` writes; https://www.pulumi.com/docs/iac/guides/migration/import/), so the
import works on a new stack as on one that already has the components. Reads only: nothing is changed.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from appcdn import cloudflare_api, resource_names
from appcdn.commands.adopt.review import behaviour_table, page_rule_lines
from appcdn.config.media import media_hosts
from appcdn.config.project import Project
from appcdn.rules.rulesets import CACHE_PHASE, CONFIG_PHASE, ZoneRules

EXIT_API_ERROR = 3
RULESET_TYPE = "cloudflare:index/ruleset:Ruleset"
DNS_RECORD_TYPE = "cloudflare:index/dnsRecord:DnsRecord"
CLOUD_CONNECTOR_TYPE = "cloudflare:index/cloudConnectorRules:CloudConnectorRules"
ZONE_RESOURCE_TYPE = "cloudflare:index/zone:Zone"
ADDRESS_TYPES = ("A", "AAAA", "CNAME")
"""Record types a proxied CNAME cannot sit next to."""


@dataclass(frozen=True)
class HostRecord:
    """A host the stack declares a record for, under which ``AppHosts`` component."""

    zone: str
    component: str
    host: str


def declared_hosts(project: Project) -> list[HostRecord]:
    """The stack's own DNS records, as the program declares them: app hosts of sites with an origin, and
    custom media domains."""
    stage, found = project.stage, []
    for site in project.config.sites:
        if site.origin is not None:
            component = resource_names.app_hosts(site.name, stage)
            found += [HostRecord(site.zone, component, h) for h in sorted(site.hosts)]
        component = resource_names.media_domain_hosts(site.name, stage)
        found += [HostRecord(site.zone, component, h) for h in sorted(media_hosts(site.media))]
    return found


@dataclass
class ZoneState:
    """What exists on one zone of those the stack owns or serves, as read from the API."""

    name: str
    owned: bool
    zone_id: str | None
    """None when the zone does not exist (yet)."""
    exists_but_created_here: bool = False
    entrypoints: dict[str, dict[str, Any] | None] = field(default_factory=dict)
    connector_rules: list[dict[str, Any]] = field(default_factory=list)
    page_rules: list[dict[str, Any]] = field(default_factory=list)
    records: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


def _phases(rules: ZoneRules) -> list[str]:
    """The phases the program writes on the zone (a phase without rules is left alone)."""
    return [phase for phase, compiled in ((CACHE_PHASE, rules.cache), (CONFIG_PHASE, rules.config)) if compiled]


def read_zones(client: Any, project: Project, compiled: Mapping[str, ZoneRules]) -> list[ZoneState]:
    """Everything adopt needs to know of the live zones, with GET requests only."""
    hosts = declared_hosts(project)
    states = []
    for zone_name in project.zones_in_use():
        zone = project.zone(zone_name)
        zone_id = zone.id or cloudflare_api.zone_id(client, zone_name)
        state = ZoneState(
            zone_name,
            project.owns(zone_name),
            zone_id,
            exists_but_created_here=zone.id is None and zone_id is not None and project.owns(zone_name),
        )
        states.append(state)
        if zone_id is None:
            continue
        if state.owned:
            for phase in _phases(compiled[zone_name]):
                state.entrypoints[phase] = cloudflare_api.entrypoint(client, zone_id, phase)
            if compiled[zone_name].media_domains:
                state.connector_rules = cloudflare_api.cloud_connector_rules(client, zone_id)
            state.page_rules = cloudflare_api.page_rules(client, zone_id)
        for record in hosts:
            if record.zone == zone_name:
                state.records[record.host] = cloudflare_api.dns_records(client, zone_id, record.host)
    return states


@dataclass(frozen=True)
class ImportEntry:
    type: str
    name: str
    id: str | None = None
    parent: str | None = None
    note: str = ""

    def as_json(self) -> dict[str, Any]:
        if self.id is None:
            return {"type": self.type, "name": self.name, "component": True}
        entry = {"type": self.type, "name": self.name, "id": self.id}
        return entry | ({"parent": self.parent} if self.parent else {})


@dataclass
class Adoption:
    """What to import, what ``pulumi up`` will create, and what stands in its way."""

    imports: list[ImportEntry] = field(default_factory=list)
    left_for_up: list[str] = field(default_factory=list)
    blocking: list[str] = field(default_factory=list)

    def import_file(self) -> dict[str, Any]:
        """The ``pulumi import --file`` document: each component once, before its first child."""
        resources: list[dict[str, Any]] = []
        components: set[str] = set()
        for entry in self.imports:
            if entry.parent and entry.parent not in components:
                components.add(entry.parent)
                kind = resource_names.ZONE_TYPE if entry.type != DNS_RECORD_TYPE else resource_names.APP_HOSTS_TYPE
                resources.append(ImportEntry(kind, entry.parent).as_json())
            resources.append(entry.as_json())
        return {"resources": resources}


def _rule_count(n: int) -> str:
    return f"{n} rule" + ("" if n == 1 else "s")


def _ruleset(adoption: Adoption, state: ZoneState, phase: str, ours: int) -> None:
    component = resource_names.zone_component(state.name)
    name = (resource_names.cache_ruleset if phase == CACHE_PHASE else resource_names.config_ruleset)(component)
    entry = state.entrypoints.get(phase)
    if entry is None:
        adoption.left_for_up.append(f"{name}: zone {state.name} has no {phase} entry point")
        return
    if entry.get("kind") != "zone" or entry.get("phase") != phase:
        adoption.blocking.append(
            f"{name}: the {phase} entry point {entry.get('id')} is of kind "
            f"{entry.get('kind')!r}, not a zone entry point; it is not claimed"
        )
        return
    rules = entry.get("rules") or []
    executes = [str(r.get("action_parameters", {}).get("id")) for r in rules if r.get("action") == "execute"]
    note = (
        f"entry point {entry.get('name')!r} with {_rule_count(len(rules))}; pulumi up replaces them with "
        f"ours ({_rule_count(ours)})"
    )
    if executes:
        note += f" and stops executing ruleset {', '.join(executes)}"
    adoption.imports.append(ImportEntry(RULESET_TYPE, name, f"zones/{state.zone_id}/{entry['id']}", component, note))


def _connector(adoption: Adoption, state: ZoneState, ours: int) -> None:
    component = resource_names.zone_component(state.name)
    name = resource_names.cloud_connector(component)
    if not state.connector_rules:
        adoption.left_for_up.append(f"{name}: zone {state.name} has no Cloud Connector rules")
        return
    theirs = ", ".join(repr(r.get("description") or r.get("expression")) for r in state.connector_rules)
    adoption.imports.append(
        ImportEntry(
            CLOUD_CONNECTOR_TYPE,
            name,
            str(state.zone_id),
            component,
            f"{theirs}; pulumi up replaces the list with ours ({_rule_count(ours)})",
        )
    )


def _record(adoption: Adoption, state: ZoneState, declared: HostRecord) -> None:
    name = resource_names.dns_record(declared.component, declared.host)
    records = state.records.get(declared.host, [])
    address = [r for r in records if r.get("type") in ADDRESS_TYPES]
    if not address:
        adoption.left_for_up.append(f"{name}: no record for {declared.host}")
    elif len(address) > 1:
        listed = ", ".join(f"{r.get('type')} {r.get('content')}" for r in address)
        adoption.blocking.append(
            f"{name}: {declared.host} has {len(address)} records ({listed}); keep at most "
            "one of them (it is imported and becomes our proxied CNAME), delete the others"
        )
    else:
        record = address[0]
        adoption.imports.append(
            ImportEntry(
                DNS_RECORD_TYPE,
                name,
                f"{state.zone_id}/{record['id']}",
                declared.component,
                f"{record.get('type')} {record.get('content')}" + ("" if record.get("proxied") else ", not proxied"),
            )
        )


def plan_adoption(project: Project, compiled: Mapping[str, ZoneRules], states: Sequence[ZoneState]) -> Adoption:
    """What the import file holds, from what was read; no API access."""
    adoption = Adoption()
    hosts = declared_hosts(project)
    for state in states:
        if state.zone_id is None:
            adoption.left_for_up.append(
                f"zone {state.name}: does not exist"
                + (" (pulumi up creates it)" if state.owned else " (its owner creates it)")
            )
            continue
        rules = compiled[state.name]
        if state.owned:
            component = resource_names.zone_component(state.name)
            if state.exists_but_created_here:
                adoption.imports.append(
                    ImportEntry(
                        ZONE_RESOURCE_TYPE,
                        resource_names.zone_resource(component),
                        state.zone_id,
                        component,
                        "the zone exists already",
                    )
                )
            for phase in _phases(rules):
                _ruleset(adoption, state, phase, len(rules.cache if phase == CACHE_PHASE else rules.config))
            if rules.media_domains:
                _connector(adoption, state, len(rules.media_domains))
        for declared in hosts:
            if declared.zone == state.name:
                _record(adoption, state, declared)
    return adoption


def urn(stack: str, project_name: str, parent_type: str | None, type_: str, name: str) -> str:
    """The URN Pulumi gives a resource: ``urn:pulumi:<stack>::<project>::<parent-type>$<type>::<name>``."""
    qualified = f"{parent_type}${type_}" if parent_type else type_
    return f"urn:pulumi:{stack}::{project_name}::{qualified}::{name}"


def _entry_urn(entry: ImportEntry, stack: str, project_name: str) -> str:
    parent_type = None
    if entry.parent:
        parent_type = resource_names.APP_HOSTS_TYPE if entry.type == DNS_RECORD_TYPE else resource_names.ZONE_TYPE
    return urn(stack, project_name, parent_type, entry.type, entry.name)


def report(
    project: Project,
    compiled: Mapping[str, ZoneRules],
    states: Sequence[ZoneState],
    adoption: Adoption,
    stack: str,
    project_name: str,
    out: Path,
) -> list[str]:
    lines = []
    for state in states:
        if not state.owned or state.zone_id is None:
            continue
        lines.append(f"Zone {state.name} ({state.zone_id}): what its rules do today, and after pulumi up")
        lines += behaviour_table(
            project,
            state.name,
            compiled[state.name],
            state.entrypoints.get(CACHE_PHASE),
            state.entrypoints.get(CONFIG_PHASE),
        )
        zone_hosts = {h for _, site in project.sites_on(state.name) for h in [*site.hosts, *media_hosts(site.media)]}
        page = page_rule_lines(state.page_rules, compiled[state.name], zone_hosts)
        if page:
            lines.append(
                "Page rules that touch caching (cache rules take precedence over them; a page rule stays "
                "until you delete it):"
            )
            lines += page
        lines.append("")
    lines.append(f"Import file {out}: {len(adoption.imports)} resources")
    for entry in adoption.imports:
        lines.append(f"  = {entry.type}  {entry.name}  {entry.id}")
        lines.append(f"      {_entry_urn(entry, stack, project_name)}")
        lines.append(f"      {entry.note}")
    if adoption.left_for_up:
        lines.append("Left for pulumi up to create:")
        lines += [f"  + {item}" for item in adoption.left_for_up]
    if adoption.blocking:
        lines.append("Needs your attention before pulumi up:")
        lines += [f"  ! {item}" for item in adoption.blocking]
    return lines


def adopt(project: Project, compiled: Mapping[str, ZoneRules], stack: str, project_name: str, out: Path) -> int:
    """Read the live zones, print the comparison and the import plan, write the import file."""
    try:
        client = cloudflare_api.connect()
        states = read_zones(client, project, compiled)
    except cloudflare_api.ApiError as err:
        print(f"appcdn adopt: Cloudflare API error: {err}", file=sys.stderr)
        return EXIT_API_ERROR
    adoption = plan_adoption(project, compiled, states)
    print("\n".join(report(project, compiled, states, adoption, stack, project_name, out)))
    out.write_text(json.dumps(adoption.import_file(), indent=2) + "\n")
    print(f"\nWrote {out}. Next: pulumi import --file {out} --protect=false --generate-code=false -s {stack}")
    return 0
