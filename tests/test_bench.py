"""The plan benchmark (``bench/plan_time.py``) cannot rot: its bare-import baseline is the SDK modules the
program imports, and the stacks it generates plan to exactly the resources it expects of them."""

import importlib.util
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from appcdn.commands.plan.mock_engine import run_under_mocks
from appcdn.config.project import load_project
from appcdn.config.pulumi_yaml.stack_files import peer_sources, read_stack_file
from appcdn.program.stack_program import declare, export
from appcdn.rules.rulesets import compile_zones
from tests.conftest import ROOT

spec = importlib.util.spec_from_file_location("plan_time", ROOT / "bench" / "plan_time.py")
assert spec and spec.loader
plan_time = sys.modules["plan_time"] = importlib.util.module_from_spec(spec)  # dataclasses look their module up
spec.loader.exec_module(plan_time)


def declared_types(project_dir: Path) -> Counter[str]:
    """The resource types the live stack of ``project_dir`` declares, as ``appcdn plan`` runs it."""
    own = read_stack_file(project_dir, "live")
    project = load_project(own.source(), peer_sources(project_dir, "live"))
    zones = compile_zones(project)
    resources = run_under_mocks(lambda: export(declare(project, zones)), own.project, "live", own.config, [])
    return Counter(r.type for r in resources)


def test_the_baseline_imports_exactly_the_sdk_modules_the_program_imports() -> None:
    assert plan_time.program_sdk_modules() == set(plan_time.PROGRAM_SDK_MODULES)


@pytest.mark.parametrize(
    "generate",
    [
        pytest.param(lambda tmp: plan_time.generate_project(plan_time.SITES_PER_ZONE, tmp), id="full sites"),
        pytest.param(lambda tmp: plan_time.generate_project(12, tmp, full=False, per_zone=12), id="one zone"),
        pytest.param(lambda tmp: plan_time.generate_rules_project(20, tmp), id="rules"),
    ],
)
def test_each_generated_stack_declares_the_resources_the_bench_expects(
    tmp_path: Path, generate: Callable[[Path], tuple[Path, Counter[str]]]
) -> None:
    project, expected = generate(tmp_path)
    assert declared_types(project) == expected
