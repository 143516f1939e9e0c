"""The parts of a plan's text every kind of program shares: the resource tree and the stack outputs."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from appcdn.commands.plan.mock_engine import DeclaredResource


def resource_tree(resources: Sequence[DeclaredResource]) -> list[str]:
    """``type  name  [protect, retain on delete]``, children indented under their parent."""
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


def output_lines(outputs: Mapping[str, Any], prefix: str = "") -> list[str]:
    """One line per leaf, by dotted path: ``sites.shop.media.bucket: shop-live-media-bucket``."""
    lines = []
    for key, value in outputs.items():
        path = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            lines += output_lines(value, path + ".")
        else:
            lines.append(f"  {path}: {value if isinstance(value, str) else json.dumps(value, sort_keys=True)}")
    return lines
