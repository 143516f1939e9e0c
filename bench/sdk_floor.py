"""The SDKs' floor under a plan: the resources a plan declared, registered again through the provider SDKs' own
classes under Pulumi's own mock engine, with none of appcdn's code.

``python bench/sdk_floor.py PLAN_JSON MODULE...`` reads what ``appcdn plan --json`` printed, imports ``MODULE...``
(the program's SDK modules, each loaded, as the bare import does) and registers every resource of the plan again:
the same type through the SDK's class for it (``aws:s3/bucket:Bucket`` is ``pulumi_aws.s3.Bucket``), the same name,
parent, ``protect`` and ``retain_on_delete``, and the planned inputs as the class's arguments; components as plain
``ComponentResource``s of their type, dynamic resources through a provider that does nothing; the engine is the
SDK's ``MockMonitor`` with mocks that echo each resource's inputs as its state (appcdn's plan adds recording what
each registration says). The process runs as ``appcdn plan`` runs (the collector paced by ``fewer_collections``
from the start, ended by ``os._exit``), so its time is what the SDKs take for these resources, and a plan's time
above it is appcdn's: its imports, the config, the components' logic, the recording engine, the behaviour table
and the output.

It is a floor, not a copy: inputs arrive as the plain values the plan resolved, so no registration waits for
another's outputs. It exits 1 if a resource's type has no class or an input no argument, or if the engine saw
other registrations than the plan's (type by type); ``tests/test_bench.py`` runs it on a small plan.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import json
import keyword
import os
import sys
from collections import Counter
from collections.abc import Callable
from typing import Any

from appcdn.commands.plan.mock_engine import fewer_collections

DYNAMIC_PREFIX = "pulumi-python:dynamic/"
COMPONENT_PACKAGE = "appcdn"
PROVIDER_INPUT = "__provider"  # a dynamic resource's serialized provider: the SDK adds its own


def sdk_class(token: str) -> type:
    """The SDK class of a resource type: ``pkg:mod/name:Name`` (or ``pkg:mod:Name``) is ``pulumi_pkg.mod.Name``,
    ``index`` the package itself, and a module named as a Python keyword takes a trailing ``_`` (``lambda_``)."""
    package, module, name = token.split(":")
    found: Any = importlib.import_module("pulumi_" + package.replace("-", "_"))
    module = module.split("/")[0]
    if module != "index":
        found = getattr(found, module + "_" if keyword.iskeyword(module) else module)
    return getattr(found, name)


@functools.cache
def dynamic_class(token: str) -> type:
    """A dynamic resource class of the type ``pulumi-python:dynamic/module:Name``."""
    import pulumi.dynamic

    module, name = token.removeprefix(DYNAMIC_PREFIX).split(":")
    return type(name, (pulumi.dynamic.Resource,), {}, module=module, name=name)


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def arguments(cls: type, inputs: dict[str, Any]) -> dict[str, Any]:
    """The planned inputs (the engine's camelCase names) as the keyword arguments of ``cls``."""
    params = inspect.signature(cls._internal_init).parameters  # type: ignore[attr-defined]
    by_input_name = {camel(p.rstrip("_")): p for p in params if p not in ("self", "resource_name", "opts")}
    unknown = sorted(set(inputs) - set(by_input_name))
    if unknown:
        sys.exit(f"{cls.__module__}.{cls.__name__} has no argument for the planned inputs {unknown}")
    return {by_input_name[k]: v for k, v in inputs.items()}


def program(resources: list[dict[str, Any]]) -> None:
    import pulumi
    import pulumi.dynamic

    class Nothing(pulumi.dynamic.ResourceProvider):
        def create(self, props: Any) -> pulumi.dynamic.CreateResult:
            return pulumi.dynamic.CreateResult("id", props)

    made: dict[str, pulumi.Resource] = {}
    pending = list(resources)
    while pending:  # parents first: the plan lists its resources sorted, not in the order they were declared
        later = []
        for r in pending:
            if r["parent"] is not None and r["parent"] not in made:
                later.append(r)
                continue
            opts = pulumi.ResourceOptions(
                parent=made.get(r["parent"]), protect=r["protect"], retain_on_delete=r["retain_on_delete"]
            )
            kind, name, inputs = r["type"], r["name"], r["inputs"]
            if kind.startswith(f"{COMPONENT_PACKAGE}:"):
                made[name] = pulumi.ComponentResource(kind, name, None, opts)
            elif kind.startswith(DYNAMIC_PREFIX):
                props = {k: v for k, v in inputs.items() if k != PROVIDER_INPUT}
                made[name] = dynamic_class(kind)(Nothing(), name, props, opts)
            else:
                cls = sdk_class(kind)
                made[name] = cls(name, opts=opts, **arguments(cls, inputs))
        if len(later) == len(pending):
            sys.exit(f"resources whose parent the plan does not declare: {[r['name'] for r in later][:5]}")
        pending = later


def registered_under_sdk_mocks(declare: Callable[[], None], stack: str) -> Counter[str]:
    """Run ``declare`` under the SDK's own mock engine (``pulumi.runtime.set_mocks`` with its ``MockMonitor``, as
    Pulumi's unit tests do), every resource's inputs echoed as its state; the types it registered."""
    import pulumi
    from pulumi.runtime.stack import run_pulumi_func
    from pulumi.runtime.sync_await import _sync_await

    registered: Counter[str] = Counter()

    class Echo(pulumi.runtime.Mocks):
        def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
            registered[args.typ] += 1
            return f"{args.name}-id", dict(args.inputs)

        def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]]]:
            return {}, []

    pulumi.runtime.set_mocks(Echo(), project="floor", stack=stack, preview=True)
    _sync_await(run_pulumi_func(declare))
    return registered


def main() -> None:
    plan_json, *modules = sys.argv[1:]
    with fewer_collections():  # as ``appcdn plan`` runs: around the imports too
        loaded = [importlib.import_module(m) for m in modules]
        [getattr(m, "_appcdn_bench_load", None) for m in loaded]  # SDK submodules are lazy until touched
        with open(plan_json, encoding="utf-8") as f:
            plan = json.load(f)
        resources = plan["resources"]
        registered = registered_under_sdk_mocks(lambda: program(resources), plan["stack"])
    want = Counter(r["type"] for r in resources)
    if registered != want:
        sys.exit(f"registered {dict(registered)}, the plan declared {dict(want)}")
    os._exit(0)


if __name__ == "__main__":
    main()
