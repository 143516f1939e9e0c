"""Run the real program under Pulumi's mock engine, with a stack's config file, and record what it declares.

This is Pulumi's own unit-testing mechanism (``pulumi.runtime.set_mocks``) used as an offline plan:
no CLI, no provider plugins, no credentials. The monitor sees each registration whole — type, name,
parent, protect, inputs — exactly as the engine would. ``secure:`` config values are never decrypted:
they reach the program as the placeholder ``[secret]`` and stay marked secret.
"""

from __future__ import annotations

import json
import runpy
from dataclasses import dataclass
from pathlib import Path
from collections.abc import Callable
from typing import Any

import yaml

_YamlLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's safe loader is ten times faster
SECRET_PLACEHOLDER = "[secret]"
UNKNOWN_PLACEHOLDER = "[unknown]"
_SECRET_SIG = "4dabf18193072939515e22adb298388d"
_UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"


@dataclass(frozen=True)
class StackFiles:
    project: str
    stack: str
    config: dict[str, str]
    """Pulumi config as the engine passes it: ``namespace:key`` → string (objects as JSON)."""
    secret_keys: list[str]

    def namespace(self, namespace: str) -> dict[str, Any]:
        prefix = namespace + ":"
        out = {}
        for key, value in self.config.items():
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
        items = [_blind(v) for v in value]
        return [v for v, _ in items], any(s for _, s in items)
    return value, False


def read_stack_files(project_dir: Path, stack: str) -> StackFiles:
    project = yaml.load((project_dir / "Pulumi.yaml").read_text(), Loader=_YamlLoader)
    config_dir = project_dir / project.get("stackConfigDir", ".")
    stack_file = config_dir / f"Pulumi.{stack}.yaml"
    if not stack_file.exists():
        known = sorted(p.name[len("Pulumi."):-len(".yaml")] for p in config_dir.glob("Pulumi.*.yaml"))
        raise FileNotFoundError(f"no stack {stack!r}: {stack_file} does not exist (stacks: {', '.join(known)})")
    raw = (yaml.load(stack_file.read_text(), Loader=_YamlLoader) or {}).get("config") or {}
    config, secret_keys = {}, []
    for key, value in raw.items():
        full_key = key if ":" in key else f"{project['name']}:{key}"
        blinded, secret = _blind(value)
        config[full_key] = blinded if isinstance(blinded, str) else json.dumps(blinded)
        if secret:
            secret_keys.append(full_key)
    return StackFiles(project["name"], stack, config, secret_keys)


@dataclass
class DeclaredResource:
    type: str
    name: str
    parent: str | None
    protect: bool
    retain_on_delete: bool
    inputs: dict[str, Any]

    def as_json(self) -> dict[str, Any]:
        return {"type": self.type, "name": self.name, "parent": self.parent, "protect": self.protect,
                "retain_on_delete": self.retain_on_delete, "inputs": self.inputs}


def _plain(value: Any) -> Any:
    """A registered property value, with secrets blinded, unknowns marked and whole floats as ints."""
    if isinstance(value, dict):
        if value.get(_SECRET_SIG) == "1b47061264138c4ac30d75fd1eb44270":
            return SECRET_PLACEHOLDER
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if value == _UNKNOWN:
        return UNKNOWN_PLACEHOLDER
    return value


def run_under_mocks(program: Callable[[], Any], project: str, stack: str, config: dict[str, str],
                    secret_keys: list[str]) -> list[DeclaredResource]:
    """Run ``program`` under Pulumi's mock engine with ``config``; return what it declared, in order.

    Import ``pulumi`` lazily: the command must answer ``--help`` and config errors without paying for it.
    """
    import pulumi
    from google.protobuf import json_format
    from pulumi.runtime.mocks import MockMonitor
    from pulumi.runtime.settings import SETTINGS
    from pulumi.runtime.stack import run_pulumi_func
    from pulumi.runtime.sync_await import _sync_await

    declared: list[DeclaredResource] = []
    names_by_urn: dict[str, str] = {}

    class PlanMocks(pulumi.runtime.Mocks):
        def new_resource(self, args):
            state = dict(args.inputs)
            if args.typ == "aws:s3/bucket:Bucket":  # computed by AWS; the plan needs them for the bucket policy
                state["bucket"] = state.get("bucket") or args.name
                state["arn"] = f"arn:aws:s3:::{state['bucket']}"
            if args.typ == "azure-native:resources:ResourceGroup":
                state["name"] = state.get("resourceGroupName") or args.name
            if args.typ == "azure-native:storage:StorageAccount":
                state["name"] = state["accountName"]
            return f"{args.name}-id", state

        def call(self, args):
            if args.token == "cloudflare:index/getZone:getZone":
                name = (args.args.get("filter") or {}).get("name", "zone")
                return {"id": f"{name}-zone-id", "name": name}
            return {}

    class RecordingMonitor(MockMonitor):
        def RegisterResource(self, request):
            response = super().RegisterResource(request)
            if request.type != "pulumi:pulumi:Stack":  # children of the stack are top level
                names_by_urn[response.urn] = request.name
                declared.append(DeclaredResource(
                    type=request.type, name=request.name, parent=names_by_urn.get(request.parent),
                    protect=bool(request.protect), retain_on_delete=bool(request.retainOnDelete),
                    inputs=_plain(json_format.MessageToDict(request.object)),
                ))
            return response

    pulumi.runtime.set_all_config(dict(config), list(secret_keys))
    mocks = PlanMocks()
    pulumi.runtime.set_mocks(mocks, project=project, stack=stack, preview=True, monitor=RecordingMonitor(mocks))
    SETTINGS.rpc_manager.clear()
    SETTINGS.outputs.clear()
    _sync_await(run_pulumi_func(program))
    return declared


def run_program(project_dir: Path, files: StackFiles) -> list[DeclaredResource]:
    """Run the project's ``__main__.py`` with the stack's config, as ``pulumi preview`` would."""
    return run_under_mocks(lambda: runpy.run_path(str(project_dir / "__main__.py"), run_name="__main__"),
                           files.project, files.stack, files.config, files.secret_keys)
