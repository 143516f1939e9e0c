"""Shared test builders: a small valid stack config to vary one change at a time, projects of several stack
files, the mock engine, and the ``appcdn`` command run in-process. Emulator fixtures come from
``tests/emulators.py``."""

from __future__ import annotations

import copy
import os
import shutil
from collections.abc import Callable, Generator
from pathlib import Path
from typing import Any

import coverage
import hypothesis
import pytest
import yaml

from appcdn.commands.cli import main
from appcdn.commands.plan.mock_engine import DeclaredResource, run_under_mocks
from appcdn.config.problems import ConfigError
from appcdn.config.project import Project, StackSource, load_project
from appcdn.rules.rulesets import ZoneRules, compile_zones

pytest_plugins = ["tests.emulators", "tests.cloudflare_fake", "tests.app_venv", "tests.aws_calls"]

ROOT = Path(__file__).resolve().parent.parent
ZONE_ID = "023e105f4ecef8ad9ca31a8372d0c353"

hypothesis.settings.register_profile("ci", derandomize=True, database=None)
hypothesis.settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))
"""``.ci/run`` picks ``ci``: the same examples on every run of a commit, so CI's time and verdict are the commit's,
not the draw's (the behaviour table of a rare config combining cookies, headers, query arguments, methods and
an expression takes tens of seconds). Elsewhere each run draws new examples."""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """``uncounted`` tests run last: pausing coverage stops its tracer in every live thread, and the mock
    engine's worker threads live on into the tests that follow."""
    items.sort(key=lambda item: item.get_closest_marker("uncounted") is not None)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None]:
    """An ``uncounted`` test runs with coverage paused, when it is on. (pytest-cov's own ``no_cover`` marker
    fails its tests under ``--no-cov``: pytest-dev/pytest-cov#590.)"""
    cov = coverage.Coverage.current()
    if cov is None or item.get_closest_marker("uncounted") is None:
        return (yield)
    cov.stop()
    try:
        return (yield)
    finally:
        cov.start()


def raw_config(stage: str = "live", plan: str = "pro", **site_overrides: Any) -> dict[str, Any]:
    """One stack that declares example.com and serves one site on it."""
    site = {"name": "shop", "zone": "example.com", "hosts": ["www.example.com"], "origin": "shop.eu.aldryn.io"}
    site.update(site_overrides)
    return {
        "stage": stage,
        "zones": {"example.com": {"id": ZONE_ID, "plan": plan}},
        "sites": [site],
    }


def test_stage(**site_overrides: Any) -> dict[str, Any]:
    """A Test stack serving shop on test.example.com, on the zone another stack declares."""
    site = {"name": "shop", "zone": "example.com", "hosts": ["test.example.com"]}
    site.update(site_overrides)
    return {"stage": "test", "sites": [site]}


test_stage.__test__ = False  # type: ignore[attr-defined]  # a builder, not a test


def project_of(raw: dict[str, Any], *peers: dict[str, Any], secret_keys: tuple[str, ...] = ()) -> Project:
    """``raw`` as the stack being deployed, ``peers`` as the project's other stack files."""
    own = StackSource(raw.get("stage", "live"), copy.deepcopy(raw), secret_keys, "Pulumi.own.yaml")
    return load_project(
        own, [StackSource(p["stage"], copy.deepcopy(p), (), f"Pulumi.{p['stage']}.yaml") for p in peers]
    )


def compiled(raw: dict[str, Any], *peers: dict[str, Any]) -> dict[str, ZoneRules]:
    return compile_zones(project_of(raw, *peers))


def problems_of(
    raw: dict[str, Any], *peers: dict[str, Any], secret_keys: tuple[str, ...] = (), stack: str | None = None
) -> list[str]:
    """The problems reported for ``raw`` (with ``peers``), as '[file: ]path: message' strings; a single
    stack's problems carry no file."""
    with pytest.raises(ConfigError) as err:
        if peers:
            compile_zones(project_of(raw, *peers, secret_keys=secret_keys))
        else:
            compile_zones(load_project(StackSource(stack or raw.get("stage", "live"), copy.deepcopy(raw), secret_keys)))
    return [str(p) for p in err.value.problems]


def declare(program: Callable[[], Any], config: dict[str, str] | None = None) -> dict[str, DeclaredResource]:
    """What ``program`` declares under the mock engine, by logical name."""
    return {r.name: r for r in run_under_mocks(program, "appcdn", "unit", config or {}, [])}


def appcdn(capsys: pytest.CaptureFixture[str], *args: str, cwd: Path = ROOT) -> tuple[int, str, str]:
    """Run the ``appcdn`` command in this process: (exit code, stdout, stderr)."""
    code = main([*args, "--cwd", str(cwd)])
    out, err = capsys.readouterr()
    return code, out, err


def project_dir(directory: Path, **stacks: dict[str, Any] | str) -> Path:
    """A throwaway project in ``directory``: this project's Pulumi.yaml and ``stacks`` as stack files
    (name → the ``appcdn`` namespace as a dict, or a whole stack file as text)."""
    (directory / "stacks").mkdir(exist_ok=True)
    shutil.copy(ROOT / "Pulumi.yaml", directory / "Pulumi.yaml")
    for name, content in stacks.items():
        text = (
            content
            if isinstance(content, str)
            else yaml.safe_dump({"config": {f"appcdn:{k}": v for k, v in content.items()}}, sort_keys=False)
        )
        (directory / "stacks" / f"Pulumi.{name}.yaml").write_text(text)
    return directory
