"""Run a Pulumi program under Pulumi's mock engine, with a stack's config, and record what it declares.

This is Pulumi's own unit-testing mechanism (``pulumi.runtime.set_mocks``) used as an offline plan:
no CLI, no provider plugins, no credentials. The monitor sees each registration whole — type, name,
parent, protect, inputs — exactly as the engine would. ``secure:`` config values are never decrypted:
they reach the program as the placeholder ``[secret]`` and stay marked secret.
"""

from __future__ import annotations

import asyncio
import atexit
import gc
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from appcdn.config.pulumi_yaml.stack_files import SECRET_PLACEHOLDER

UNKNOWN_PLACEHOLDER = "[unknown]"

YOUNG_COLLECTION_THRESHOLD = 100_000
"""Allocations between two collections of the youngest generation while a plan runs (CPython's default: 700)."""
PLAN_COLLECTION_THRESHOLDS = (YOUNG_COLLECTION_THRESHOLD, 50, 100)
"""``gc.set_threshold`` while a plan runs: the older generations are collected as rarely, relative to it."""
_collecting_less = 0


@contextmanager
def fewer_collections() -> Iterator[None]:
    """Run a plan with CPython's cyclic garbage collector paced for it, restored afterwards (nested uses too).

    Importing the provider SDKs (thousands of classes) and registering resources under the mock engine (every
    resource makes dozens of Outputs, futures and tasks that live until the program ends) allocate millions of
    objects that are never garbage; at the default pace the collector walks them over and over: about 40 % of a
    100-site plan's CPU time (``bench/README.md``). So collect the youngest generation every
    YOUNG_COLLECTION_THRESHOLD allocations instead of every 700, the older ones as rarely, and move what exists
    on entry (the imported SDKs, the validated config) out of the collector's sight (``gc.freeze``). Cycles are
    still collected, so memory stays bounded."""
    global _collecting_less
    saved = gc.get_threshold()
    if not _collecting_less:
        gc.set_threshold(*PLAN_COLLECTION_THRESHOLDS)
    _collecting_less += 1
    gc.freeze()
    try:
        yield
    finally:
        _collecting_less -= 1
        if not _collecting_less:
            gc.unfreeze()
            gc.set_threshold(*saved)


@dataclass
class DeclaredResource:
    type: str
    name: str
    parent: str | None
    protect: bool
    retain_on_delete: bool
    inputs: dict[str, Any]

    def as_json(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "name": self.name,
            "parent": self.parent,
            "protect": self.protect,
            "retain_on_delete": self.retain_on_delete,
            "inputs": self.inputs,
        }


def _plain(value: Any) -> Any:
    """A registered property value, with secrets blinded, unknowns marked and whole floats as ints.
    The wire markers are the SDK's own (``pulumi.runtime.rpc``), which has no public decoder for them."""
    from pulumi.runtime import rpc

    if isinstance(value, dict):
        if value.get(rpc._special_sig_key) == rpc._special_secret_sig:
            return SECRET_PLACEHOLDER
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if value == rpc.UNKNOWN:
        return UNKNOWN_PLACEHOLDER
    return value


@dataclass
class PlannedProgram:
    """What a program declared, in order, and its stack outputs (secrets blinded, unknowns marked)."""

    resources: list[DeclaredResource]
    outputs: dict[str, Any]


async def _resolved(value: Any) -> Any:
    """An exported value with every Output in it awaited: secrets as the placeholder, unknowns marked."""
    import pulumi

    if isinstance(value, pulumi.Output):
        if await value.is_secret():
            return SECRET_PLACEHOLDER
        if not await value.is_known():
            return UNKNOWN_PLACEHOLDER
        return await _resolved(await value.future())
    if isinstance(value, pulumi.Resource):
        return f"<resource {value._name}>"
    if isinstance(value, dict):
        return {str(k): await _resolved(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [await _resolved(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def run_under_mocks(
    program: Callable[[], Any], project: str, stack: str, config: dict[str, str], secret_keys: list[str]
) -> list[DeclaredResource]:
    """Run ``program`` under Pulumi's mock engine with ``config``; return what it declared, in order."""
    return run_program(program, project, stack, config, secret_keys).resources


def run_program(
    program: Callable[[], Any], project: str, stack: str, config: dict[str, str], secret_keys: list[str]
) -> PlannedProgram:
    """Run ``program`` under Pulumi's mock engine with ``config``: what it declared and exported.

    Import ``pulumi`` lazily: the command must answer ``--help`` and config errors without paying for it.
    """
    import pulumi
    from google.protobuf import json_format
    from pulumi.runtime.mocks import MockCallArgs, MockMonitor, MockResourceArgs
    from pulumi.runtime.proto import resource_pb2
    from pulumi.runtime.settings import SETTINGS, get_root_resource, set_root_resource
    from pulumi.runtime.stack import run_pulumi_func
    from pulumi.runtime.sync_await import _sync_await

    declared: list[DeclaredResource] = []
    names_by_urn: dict[str, str] = {}

    class PlanMocks(pulumi.runtime.Mocks):
        def new_resource(self, args: MockResourceArgs) -> tuple[str, dict[str, Any]]:
            state = dict(args.inputs)
            if args.typ == "aws:s3/bucket:Bucket":  # computed by AWS; the plan needs them for the bucket policy
                state["bucket"] = state.get("bucket") or args.name
                state["arn"] = f"arn:aws:s3:::{state['bucket']}"
            if args.typ == "azure-native:resources:ResourceGroup":
                state["name"] = state.get("resourceGroupName") or args.name
            if args.typ == "azure-native:storage:StorageAccount":
                state["name"] = state["accountName"]
            if args.typ == "random:index/randomPassword:RandomPassword":  # made at up; a secret output
                state["result"] = "generated-at-up"
            if args.typ == "aws:cloudwatch/logGroup:LogGroup":  # its ARN names the account, known at up
                state["name"] = state.get("name") or args.name
                state["arn"] = f"arn:aws:logs:{state.get('region') or UNKNOWN_PLACEHOLDER}:{UNKNOWN_PLACEHOLDER}:"
                state["arn"] += f"log-group:{state['name']}"
            return f"{args.name}-id", state

        def call(self, args: MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]]]:
            """The call's result and no check failures."""
            if args.token == "cloudflare:index/getZone:getZone":
                name = (args.args.get("filter") or {}).get("name", "zone")
                return {"id": f"{name}-zone-id", "name": name}, []
            if args.token == "aws:index/getCallerIdentity:getCallerIdentity":  # the deployer's account, at up
                return dict.fromkeys(("accountId", "arn", "userId", "id"), UNKNOWN_PLACEHOLDER), []
            return {}, []

    class RecordingMonitor(MockMonitor):
        # MockMonitor is not annotated; each of its calls answers a request with a response.
        def Invoke(self, request: resource_pb2.ResourceInvokeRequest) -> resource_pb2.ResourceInvokeResponse:
            invoke = cast(
                Callable[[resource_pb2.ResourceInvokeRequest], resource_pb2.ResourceInvokeResponse], super().Invoke
            )
            return _on_a_loop_of_its_thread(lambda: invoke(request))

        def ReadResource(self, request: resource_pb2.ReadResourceRequest) -> resource_pb2.ReadResourceResponse:
            read = cast(
                Callable[[resource_pb2.ReadResourceRequest], resource_pb2.ReadResourceResponse], super().ReadResource
            )
            return _on_a_loop_of_its_thread(lambda: read(request))

        def RegisterResource(
            self,
            request: resource_pb2.RegisterResourceRequest,
        ) -> resource_pb2.RegisterResourceResponse:
            register = cast(
                Callable[[resource_pb2.RegisterResourceRequest], resource_pb2.RegisterResourceResponse],
                super().RegisterResource,
            )
            response = _on_a_loop_of_its_thread(lambda: register(request))
            if request.type != "pulumi:pulumi:Stack":  # children of the stack are top level
                names_by_urn[response.urn] = request.name
                declared.append(
                    DeclaredResource(
                        type=request.type,
                        name=request.name,
                        parent=names_by_urn.get(request.parent),
                        protect=bool(request.protect),
                        retain_on_delete=bool(request.retainOnDelete),
                        inputs=_plain(json_format.MessageToDict(request.object)),
                    )
                )
            return response

    pulumi.runtime.set_all_config(dict(config), list(secret_keys))
    set_root_resource(cast(pulumi.Resource, None))  # a new stack for each run: its exports are this program's
    mocks = PlanMocks()
    pulumi.runtime.set_mocks(mocks, project=project, stack=stack, preview=True, monitor=RecordingMonitor(mocks))
    SETTINGS.rpc_manager.clear()
    SETTINGS.outputs.clear()
    with fewer_collections():
        _sync_await(run_pulumi_func(program))
        root = get_root_resource()
        outputs = _sync_await(_resolved(getattr(root, "outputs", {})))
    _close_at_exit(asyncio.get_event_loop())
    return PlannedProgram(declared, outputs)


_CLOSING: set[int] = set()
_THREAD = threading.local()
T = TypeVar("T")


def _on_a_loop_of_its_thread(call: Callable[[], T]) -> T:
    """Run a mock-monitor call, which the SDK makes on an executor thread, with that thread's own event loop, made
    at its first call and closed at exit: the SDK's MockMonitor would otherwise make one it never closes
    (``pulumi.runtime.mocks``: ``_ensure_event_loop()`` in each call). One per call instead cost a socket pair
    and a selector per registration (about 0.3 s of system time for 1 760 resources, ``bench/README.md``)."""
    if threading.current_thread() is threading.main_thread():
        return call()
    if getattr(_THREAD, "loop", None) is None:
        _THREAD.loop = asyncio.new_event_loop()
        asyncio.set_event_loop(_THREAD.loop)
        _close_at_exit(_THREAD.loop)
    return call()


def _close_at_exit(loop: asyncio.AbstractEventLoop) -> None:
    """The SDK runs programs on the thread's event loop (``pulumi.runtime.sync_await._ensure_event_loop``) and
    never closes it: left to the garbage collector at interpreter exit, its ``__del__`` may find its self-pipe
    socket already gone ("Exception ignored in BaseEventLoop.__del__ … Invalid file descriptor"). Close it,
    with its default executor, before that. The loop stays open until exit: later runs in this process reuse it."""
    if id(loop) not in _CLOSING:
        _CLOSING.add(id(loop))
        atexit.register(_close_loop, loop)


def _close_loop(loop: asyncio.AbstractEventLoop) -> None:
    if loop.is_closed() or loop.is_running():
        return
    try:
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.run_until_complete(loop.shutdown_default_executor())
    finally:
        loop.close()
