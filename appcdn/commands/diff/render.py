"""``appcdn diff`` as text for a terminal, Markdown for a pull-request comment, or JSON for machines."""

from __future__ import annotations

import json
from collections.abc import Sequence

from appcdn.commands.diff.compare import StackDiff
from appcdn.commands.diff.resources import ResourceChange

MARKER = "<!-- appcdn-diff -->"
"""The first line of the Markdown report, so a CI job can find and update its own comment."""
SYMBOLS = {"added": "+", "removed": "-", "replaced": "±", "changed": "~"}
MAX_INPUTS = 12


def _provenance(diff: StackDiff) -> str:
    return (
        f"base {diff.base.label} planned with {diff.base.planned_with}; "
        f"{diff.head.label} planned with {diff.head.planned_with}"
    )


def _counts(changes: Sequence[ResourceChange]) -> str:
    return ", ".join(f"{sum(c.kind == kind for c in changes)} {kind}" for kind in SYMBOLS)


def _inputs(change: ResourceChange) -> list[str]:
    words = [c.words() for c in change.changes[:MAX_INPUTS]]
    if len(change.changes) > MAX_INPUTS:
        words.append(f"… and {len(change.changes) - MAX_INPUTS} more")
    return words


def text(diffs: Sequence[StackDiff]) -> str:
    lines: list[str] = []
    for diff in diffs:
        lines += [f"appcdn diff: stack {diff.stack}, {diff.base.label} → {diff.head.label}", f"  ({_provenance(diff)})"]
        if not diff.changed:
            lines += ["  No changes.", ""]
            continue
        if diff.weakening():
            lines.append("  Safety-weakening changes:")
            lines += [f"    ! {line}" for line in diff.weakening()]
        if diff.behaviour:
            lines.append("  Cache behaviour (requests bypassed before and after left out):")
            lines += [f"    {'! ' if c.weakens else ''}{c.site} ({c.stage}) {c.line()}" for c in diff.behaviour]
        if diff.resources:
            lines.append(f"  Resources: {_counts(diff.resources)}")
            for change in diff.resources:
                flag = " (protected)" if change.protected and change.kind != "changed" else ""
                lines.append(f"    {SYMBOLS[change.kind]} {change.kind} {change.type}  {change.name}{flag}")
                lines += [f"        {words}" for words in _inputs(change)]
        lines.append("")
    return "\n".join(lines)


def _code(value: str, in_table: bool = False) -> str:
    code = "`" + value.replace("`", "'") + "`"
    return code.replace("|", "\\|") if in_table else code


def markdown(diffs: Sequence[StackDiff]) -> str:
    lines = [MARKER, "## appcdn diff", ""]
    for diff in diffs:
        lines += [f"### Stack `{diff.stack}`", f"_{_provenance(diff)}_", ""]
        if not diff.changed:
            lines += ["No changes.", ""]
            continue
        if diff.weakening():
            lines += ["> [!WARNING]", "> **Safety-weakening changes**", ">"]
            lines += [f"> - {line}" for line in diff.weakening()]
            lines.append("")
        if diff.behaviour:
            lines += ["**Cache behaviour** (requests bypassed before and after left out)", ""]
            lines += [
                f"- {'⚠️ ' if c.weakens else ''}{c.site} ({c.stage}) {_code(', '.join(c.hosts))}"
                f"{'' if c.note else ' ' + _code(c.requests)}: {c.words()}"
                for c in diff.behaviour
            ]
            lines.append("")
        if diff.resources:
            lines += [
                f"**Resources**: {_counts(diff.resources)}",
                "",
                "| | type | name | inputs |",
                "|---|---|---|---|",
            ]
            for change in diff.resources:
                inputs = "<br>".join(_code(w, in_table=True) for w in _inputs(change))
                flag = " ⚠️ protected" if change.weakens else ""
                lines.append(
                    f"| {change.kind}{flag} | {_code(change.type, True)} | {_code(change.name, True)} | {inputs} |"
                )
            lines.append("")
    return "\n".join(lines)


def as_json(diffs: Sequence[StackDiff]) -> str:
    return json.dumps(
        {"stacks": [d.as_json() for d in diffs], "changed": any(d.changed for d in diffs)}, indent=2, sort_keys=True
    )
