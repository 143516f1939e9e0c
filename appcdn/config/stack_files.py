"""A project's stack files (``Pulumi.<stack>.yaml`` in its ``stackConfigDir``), read offline.

Config values arrive as the Pulumi engine hands them to a program: ``namespace:key`` → a string, objects
as JSON. ``secure:`` values are never decrypted: they become the placeholder ``[secret]`` and their key
is listed as secret.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from appcdn.config.fields import NAMESPACE
from appcdn.config.project import StackSource

_YamlLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's safe loader is ten times faster
SECRET_PLACEHOLDER = "[secret]"


@dataclass(frozen=True)
class StackFile:
    project: str
    stack: str
    label: str
    """The file's path relative to the project, for messages."""
    config: dict[str, str]
    """Pulumi config as the engine passes it: ``namespace:key`` → string (objects as JSON)."""
    secret_keys: list[str]

    def source(self) -> StackSource:
        """The ``appcdn`` namespace of the file, for the config model."""
        return StackSource(self.stack, namespace_values(self.config), self.secret_keys, self.label)


def namespace_values(config: dict[str, str]) -> dict[str, Any]:
    """The ``appcdn:`` keys without the prefix, JSON values decoded."""
    prefix = NAMESPACE + ":"
    out: dict[str, Any] = {}
    for key, value in config.items():
        if key.startswith(prefix):
            try:
                out[key[len(prefix):]] = json.loads(value)
            except ValueError:
                out[key[len(prefix):]] = value
    return out


def _blind(value: Any) -> tuple[Any, bool]:
    """Replace every ``secure:`` value with the placeholder; say whether there was one."""
    if isinstance(value, dict):
        if set(value) == {"secure"}:
            return SECRET_PLACEHOLDER, True
        items = {k: _blind(v) for k, v in value.items()}
        return {k: v for k, (v, _) in items.items()}, any(s for _, s in items.values())
    if isinstance(value, list):
        listed = [_blind(v) for v in value]
        return [v for v, _ in listed], any(s for _, s in listed)
    return value, False


def _load_yaml(path: Path) -> Any:
    return yaml.load(path.read_text(), Loader=_YamlLoader)


def stack_config_dir(project_dir: Path) -> tuple[str, Path]:
    """The project's name and the folder of its stack files."""
    project = _load_yaml(project_dir / "Pulumi.yaml")
    return project["name"], project_dir / project.get("stackConfigDir", ".")


def stack_names(project_dir: Path) -> list[str]:
    _, config_dir = stack_config_dir(project_dir)
    return sorted(p.name[len("Pulumi."):-len(".yaml")] for p in config_dir.glob("Pulumi.*.yaml"))


def stack_file_path(project_dir: Path, stack: str) -> tuple[Path, str]:
    """The stack's file, and its path relative to the project for messages."""
    _, config_dir = stack_config_dir(project_dir)
    path = config_dir / f"Pulumi.{stack}.yaml"
    return path, str(path.relative_to(project_dir)) if path.is_relative_to(project_dir) else str(path)


def read_stack_file(project_dir: Path, stack: str) -> StackFile:
    project, _ = stack_config_dir(project_dir)
    path, label = stack_file_path(project_dir, stack)
    if not path.exists():
        raise FileNotFoundError(f"no stack {stack!r}: {path} does not exist "
                                f"(stacks: {', '.join(stack_names(project_dir))})")
    raw = (_load_yaml(path) or {}).get("config") or {}
    config, secret_keys = {}, []
    for key, value in raw.items():
        full_key = key if ":" in key else f"{project}:{key}"
        blinded, secret = _blind(value)
        config[full_key] = blinded if isinstance(blinded, str) else json.dumps(blinded)
        if secret:
            secret_keys.append(full_key)
    return StackFile(project, stack, label, config, secret_keys)


def peer_sources(project_dir: Path, own_stack: str) -> list[StackSource]:
    """Every other stack file of the project, read without decrypting anything."""
    return [read_stack_file(project_dir, name).source() for name in stack_names(project_dir) if name != own_stack]
