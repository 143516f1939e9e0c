"""The plan benchmark (``bench/plan_time.py``) cannot rot: its bare-import baseline is the SDK modules the
program imports, and the stacks it generates plan to exactly the resources it expects of them. It cannot hang
either: a run over its wall-clock budget is killed, with what it spawned, and reported as a missed target."""

import importlib
import importlib.util
import json
import re
import shutil
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from appcdn.commands.plan.mock_engine import PLAN_COLLECTION_THRESHOLDS, run_under_mocks
from appcdn.config.project import load_project
from appcdn.config.pulumi_yaml.stack_files import peer_sources, read_stack_file
from appcdn.program.stack_program import declare, export
from appcdn.rules.rulesets import compile_zones
from tests.conftest import ROOT

sys.path.insert(0, str(ROOT / "bench"))  # the scripts import their sibling busy.py, as when run from bench/
busy = importlib.import_module("busy")
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
        pytest.param(lambda tmp: plan_time.generate_rules_project(20, tmp), id="prefix rules"),
        pytest.param(
            lambda tmp: plan_time.generate_rules_project(20, tmp, plan_time.prefix_or_extension_rule),
            id="prefix and extension rules",
        ),
        pytest.param(lambda tmp: plan_time.generate_rules_project(20, tmp, plan_time.mixed_rule), id="mixed rules"),
    ],
)
def test_each_generated_stack_declares_the_resources_the_bench_expects(
    tmp_path: Path, generate: Callable[[Path], tuple[Path, Counter[str]]]
) -> None:
    project, expected = generate(tmp_path)
    assert declared_types(project) == expected


def test_the_sdk_floor_registers_every_resource_of_a_plan_again_through_the_sdks_classes(tmp_path: Path) -> None:
    project, expected = plan_time.generate_project(plan_time.SITES_PER_ZONE, tmp_path)
    plan_json = tmp_path / "plan.json"
    plan_time.check_plan(plan_time.plan_argv(project), 120.0, expected, keep=plan_json)
    run, _ = plan_time.measured(plan_time.sdk_floor_argv(plan_json), 120.0)  # exits unless the floor exits 0
    assert not run.killed


def test_the_sdk_floor_refuses_an_input_the_sdk_class_has_no_argument_for(tmp_path: Path) -> None:
    record = {"type": "cloudflare:index/dnsRecord:DnsRecord", "name": "www", "parent": None, "protect": False}
    plan = {"stack": "live", "resources": [{**record, "retain_on_delete": False, "inputs": {"noSuchInput": 1}}]}
    (tmp_path / "plan.json").write_text(json.dumps(plan))
    floor = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "sdk_floor.py"), str(tmp_path / "plan.json"), "pulumi"],
        capture_output=True,
        text=True,
    )
    assert (floor.returncode, floor.stderr) == (
        1,
        "pulumi_cloudflare.dns_record.DnsRecord has no argument for the planned inputs ['noSuchInput']\n",
    )


def test_a_run_over_its_budget_is_killed_with_its_children_and_its_row_says_target_missed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pid_file = tmp_path / "child.pid"
    slow = (
        "import subprocess, sys, time\n"
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
        f"open({str(pid_file)!r}, 'w').write(str(child.pid))\n"
        "x = bytearray(64 << 20)\n"
        "time.sleep(60)\n"
    )
    start = time.monotonic()
    run, out = plan_time.measured([sys.executable, "-c", slow], budget=3.0, capture=True)
    assert time.monotonic() - start < 20
    assert run.killed and run.wall == 3.0 and out == ""
    assert run.peak_mb >= 64  # what it held when killed
    child = int(pid_file.read_text())
    time.sleep(0.2)
    stat = Path(f"/proc/{child}/stat")
    assert not stat.exists() or stat.read_text().rsplit(")", 1)[1].split()[0] == "Z"  # its group went with it

    bare = plan_time.Variant("bare import", [], 1, is_plan=False, runs=[plan_time.Run(2.0, 1.5, 200)])
    slow_plan = plan_time.Variant("250 cache rules", [], 3, is_plan=True, runs=[run])
    assert plan_time.run_rounds([slow_plan], budget=3.0) == []  # not run again
    plan_time.report([bare, slow_plan], floor=2.0, budget=3.0)
    rows = capsys.readouterr().out.splitlines()
    label, runs, median, minimum, cpu, peak, ratio, note = re.split(r"\s{2,}", rows[2])
    assert (label, runs, median, minimum, ratio) == ("250 cache rules", "1", "> 3", "-", "> 1.50")
    assert cpu == f"> {run.cpu:.2f}" and peak == f">= {run.peak_mb:.0f}"
    assert note == "> 3 s — target missed (killed at the budget)"
    assert not plan_time.ratio_verdict("250 cache rules / bare import", slow_plan, 2.0, 3.0, 2.0)
    assert capsys.readouterr().out == (
        "target: 250 cache rules / bare import <= 2 x: > 1.50 x -> MISSED (not known: killed at the budget first)\n"
    )
    # the peak memory it had reached when killed: its whole run's peak is at least that, maybe no more
    assert not plan_time.verdict("peak memory", run.peak_mb, 400, " MB", lower_bound=True, reached=True)
    assert capsys.readouterr().out.startswith(f"target: peak memory <= 400 MB: >= {run.peak_mb:.2f} MB -> MISSED")


def test_a_run_within_its_budget_gives_its_output_and_times() -> None:
    run, out = plan_time.measured([sys.executable, "-c", "print('{}')"], budget=30.0, capture=True)
    assert not run.killed and 0 < run.wall < 30 and run.cpu > 0 and run.peak_mb > 1
    assert out == "{}\n"


def test_measured_runs_write_and_read_bytecode_even_where_the_environment_says_not_to(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PYTHONDONTWRITEBYTECODE", "1")
    _, out = plan_time.measured([sys.executable, "-c", "import sys; print(sys.dont_write_bytecode)"], 30.0, True)
    assert out == "False\n"


def test_a_ratio_without_a_divisor_is_not_measured_and_missed(capsys: pytest.CaptureFixture[str]) -> None:
    why = "100 edge-only sites on one zone took 14.94 s, not above the import's 18.91 s"
    assert not plan_time.verdict("time above the import", None, 12.0, " x", why=why)
    assert capsys.readouterr().out == f"target: time above the import <= 12 x: not measured ({why}) -> MISSED\n"


@pytest.mark.parametrize(
    "argv",
    [
        [".venv/bin/python", "-m", "pytest", "-q", "tests/test_cli.py"],
        ["/usr/bin/python3.11", "-X", "importtime", "-m", "pytest"],
        ["/work/x/.venv/bin/python", "/work/x/.venv/bin/pytest", "tests"],  # the pytest script, by its shebang
        [".venv/bin/pytest", "-x"],
        ["bash", ".ci/run"],
        ["/bin/bash", "/tmp/clone/.ci/run"],
    ],
)
def test_a_test_or_ci_run_keeps_the_benchmark_waiting(argv: list[str]) -> None:
    assert busy.runs_tests(argv)


@pytest.mark.parametrize(
    "argv",
    [
        ["node", "/w/node_modules/.bin/azurite", "--inMemoryPersistence", "--location", "/tmp/pytest-of-root/p-3/az"],
        ["/usr/lib/postgresql/15/bin/postgres", "-D", "/tmp/pytest-of-root/pytest-7/pg"],
        ["redis-server", "/tmp/ci-clone/redis.conf"],
        [".venv/bin/python", "bench/plan_time.py", "--reps", "1"],
        ["grep", "-r", "pytest", "tests"],
        ["python3", "-c", "import pytest"],
        [],
    ],
)
def test_a_process_that_only_names_a_test_run_in_its_arguments_does_not(argv: list[str]) -> None:
    assert not busy.runs_tests(argv)


def test_busy_processes_are_read_from_the_running_processes(tmp_path: Path) -> None:
    runner = tmp_path / "pytest"  # a program named pytest: a test run, whatever it does
    runner.symlink_to("/bin/sleep")
    bystander = tmp_path / "azurite"  # a server following a file under the test run's temporary folder
    bystander.symlink_to(shutil.which("tail") or "/usr/bin/tail")
    location = tmp_path / "location"
    location.write_text("")
    with (
        subprocess.Popen([str(runner), "30"]) as run,
        subprocess.Popen([str(bystander), "-f", str(location)]) as other,
    ):
        try:
            time.sleep(0.2)
            assert run.poll() is None and other.poll() is None  # both still running
            found = busy.busy_processes()
            assert f"{run.pid} {runner} 30" in found
            assert not any(line.startswith(f"{other.pid} ") for line in found)
            assert any(line.startswith(f"{other.pid} ") for line in busy.busy_processes(also=("azurite",)))
        finally:
            run.kill()
            other.kill()


def test_the_import_as_the_plan_does_it_paces_the_collector_as_the_plan_and_skips_the_teardown() -> None:
    argv = plan_time.import_argv("json", "pulumi", as_the_plan=True)
    code = argv[-1]
    assert code.startswith(f"import gc\ngc.set_threshold(*{PLAN_COLLECTION_THRESHOLDS!r})\n")
    assert code.endswith("import os\nos._exit(0)\n")
    run, _ = plan_time.measured(argv, 60.0)  # exits the bench unless it ends with 0
    assert not run.killed
