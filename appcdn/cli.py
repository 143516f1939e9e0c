"""The ``appcdn`` command.

``appcdn plan --stack test|live [--json]``: validate the stack's config, run the real program under
Pulumi's mock engine, print the resource tree it declares and the effective cache behaviour.
Exit 0 on success, 2 on invalid config or an unknown stack.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from appcdn.config import NAMESPACE, ConfigError, StackConfig, parse_stack_config
from appcdn.offline import DeclaredResource, read_stack_files, run_program
from appcdn.policy.behaviour import BehaviourRow, OwnerView, behaviour_rows
from appcdn.policy.rulesets import compile_zones

EXIT_INVALID = 2


def _tree(resources: list[DeclaredResource]) -> list[str]:
    children: dict[str | None, list[DeclaredResource]] = {}
    for r in resources:
        children.setdefault(r.parent, []).append(r)
    lines = []

    def walk(parent: str | None, depth: int) -> None:
        for r in children.get(parent, []):
            flags = [f for f, on in (("protect", r.protect), ("retain on delete", r.retain_on_delete)) if on]
            lines.append("  " * depth + f"{r.type}  {r.name}" + (f"  [{', '.join(flags)}]" if flags else ""))
            walk(r.name, depth + 1)

    walk(None, 1)
    return lines


def _table(rows: list[BehaviourRow]) -> list[str]:
    header = ("site", "stage", "hosts", "requests", "cache", "edge TTL", "browser TTL", "polish")
    cells = [header] + [(r.site, r.stage, r.hosts, r.requests, r.cache, r.edge_ttl, r.browser_ttl, r.polish)
                        for r in rows]
    widths = [max(len(c[i]) for c in cells) for i in range(len(header))]
    return ["  " + "  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in cells]


def _owner_views(project_dir: Path, config: StackConfig) -> dict[str, OwnerView]:
    """For each zone another stage owns: that stack's config and compiled rules, read from its own file
    (never decrypted), so the plan shows what the owner will deploy for this stage's hosts."""
    views = {}
    for zone_name, zone in config.zones.items():
        if zone.owner == config.stage:
            continue
        try:
            files = read_stack_files(project_dir, zone.owner)
            owner = parse_stack_config(files.namespace(NAMESPACE), zone.owner, files.secret_keys)
            views[zone_name] = (owner, compile_zones(owner))
        except (FileNotFoundError, ConfigError):
            continue  # the owner's own plan reports it; here the table names the owner instead
    return views


def _host_mismatches(config: StackConfig, owners: dict[str, OwnerView]) -> list[str]:
    """Where this stack's hosts differ from the ones the owner composes rules for."""
    warnings = []
    for site in config.sites:
        owner = owners.get(site.zone, (None,))[0]
        owner_site = owner.site_named(site.name) if owner else None
        if owner_site is None:
            continue
        composed = owner_site.other_stages.get(config.stage)
        if composed is None or sorted(composed.hosts) != sorted(site.hosts):
            warnings.append(f"site {site.name}: the {owner.stage} stack composes edge rules for "
                            f"{config.stage} hosts {sorted(composed.hosts) if composed else []}, this stack serves "
                            f"{sorted(site.hosts)}; align sites[].other_stages.{config.stage}.hosts there")
    return warnings


def plan(project_dir: Path, stack: str, as_json: bool) -> int:
    try:
        files = read_stack_files(project_dir, stack)
    except FileNotFoundError as err:
        print(f"appcdn plan: {err}", file=sys.stderr)
        return EXIT_INVALID
    try:
        config = parse_stack_config(files.namespace(NAMESPACE), stack, files.secret_keys)
        compiled = compile_zones(config)
    except ConfigError as err:
        print(f"stack {stack}: {err.report()}", file=sys.stderr)
        return EXIT_INVALID
    resources = run_program(project_dir, files)
    resources.sort(key=lambda r: (r.parent or "", r.type, r.name))
    owners = _owner_views(project_dir, config)
    rows = behaviour_rows(config, compiled, owners)
    for warning in _host_mismatches(config, owners):
        print(f"warning: {warning}", file=sys.stderr)
    if as_json:
        print(json.dumps({"stack": stack, "resources": [r.as_json() for r in resources],
                          "cache_behaviour": [r.as_json() for r in rows]}, indent=2, sort_keys=True))
        return 0
    print(f"Stack {stack} (stage {config.stage}) declares {len(resources)} resources:")
    print("\n".join(_tree(resources)))
    print("\nEffective cache behaviour (compiled rules applied in order):")
    for zone_name, zone in config.zones.items():
        if zone.owner != config.stage:
            source = "its rules as compiled from its stack file" if zone_name in owners else "not readable here"
            print(f"  zone {zone_name}: edge rules owned by the {zone.owner} stack ({source})")
    print("\n".join(_table(rows)))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="appcdn", description="Caching and CDN infrastructure as code.")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("plan", help="offline plan of a stack: resources and effective cache behaviour")
    p.add_argument("--stack", "-s", required=True, help="stack name: test or live (stacks/Pulumi.<name>.yaml)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--cwd", type=Path, default=Path.cwd(), help="project directory (holds Pulumi.yaml)")
    args = parser.parse_args(argv)
    return plan(args.cwd.resolve(), args.stack, args.json)


if __name__ == "__main__":
    sys.exit(main())
