"""``appcdn diff``: what a change does to a stack, in words, for a reviewer.

Both sides are planned offline (``appcdn.commands.diff.git_ref``): the base at a git ref, the head in the working tree.
Compared are the resources (added, removed, replaced, changed with their inputs) and the cache behaviour
(``appcdn.behaviour.table_diff``, per site and host/path class); the changes that weaken safety (caching
where there was a bypass, a protected resource deleted or replaced, a public grant widened) come first.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from appcdn.behaviour.table_diff import BehaviourChange, SiteHosts, ZoneSide, behaviour_changes
from appcdn.commands.diff.git_ref import Planned
from appcdn.commands.diff.resources import GrantChange, ResourceChange, resource_changes, widened_grants
from appcdn.config.cache import Match
from appcdn.rules.rulesets import CompiledRule, Scope


def _rule(data: dict[str, Any]) -> CompiledRule:
    return CompiledRule(
        data["ref"],
        tuple(data["names"]),
        data["action"],
        tuple(sorted(data["settings"].items())),
        tuple(Scope(tuple(s["hosts"]), Match.model_validate(s["match"])) for s in data["scopes"]),
    )


def zone_sides(snapshot: dict[str, Any]) -> dict[str, ZoneSide]:
    return {
        name: ZoneSide([_rule(r) for r in zone["cache"]], [_rule(r) for r in zone["config"]], zone["polish"])
        for name, zone in snapshot["zones"].items()
    }


def site_hosts(snapshot: dict[str, Any]) -> list[SiteHosts]:
    return [SiteHosts(s["zone"], s["site"], s["stage"], tuple(s["hosts"])) for s in snapshot["sites"]]


@dataclass(frozen=True)
class StackDiff:
    stack: str
    base: Planned
    head: Planned
    resources: list[ResourceChange]
    grants: list[GrantChange]
    behaviour: list[BehaviourChange]

    @property
    def changed(self) -> bool:
        return bool(self.resources or self.behaviour)

    def weakening(self) -> list[str]:
        """The safety-weakening changes, in words, first the cache behaviour's."""
        lines = [f"{c.site} ({c.stage}) {c.line()}" for c in self.behaviour if c.weakens]
        lines += [f"protected resource {c.kind}: {c.type} {c.name}" for c in self.resources if c.weakens]
        lines += [f"public grant widened: {g.type} {g.name}: {grant}" for g in self.grants for grant in g.added]
        return lines

    def as_json(self) -> dict[str, Any]:
        return {
            "stack": self.stack,
            "changed": self.changed,
            "base": {"label": self.base.label, "planned_with": self.base.planned_with},
            "head": {"label": self.head.label, "planned_with": self.head.planned_with},
            "weakens_safety": self.weakening(),
            "resources": [c.as_json() for c in self.resources],
            "public_grants_widened": [g.as_json() for g in self.grants],
            "cache_behaviour": [c.as_json() for c in self.behaviour],
        }


def compare(stack: str, base: Planned, head: Planned) -> StackDiff:
    old, new = base.snapshot, head.snapshot
    return StackDiff(
        stack,
        base,
        head,
        resource_changes(old["resources"], new["resources"]),
        widened_grants(old["resources"], new["resources"]),
        behaviour_changes(site_hosts(old), site_hosts(new), zone_sides(old), zone_sides(new)),
    )
