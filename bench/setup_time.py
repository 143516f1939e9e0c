"""Set-up time on a fresh clone with empty package caches: `make plan` twice, `make test`, and the old pip path.

Not a test: run it by hand (`python3 bench/setup_time.py`, stdlib only), see bench/README.md. It clones the
committed HEAD of this repository into a temporary directory (uncommitted changes are not measured), gives
every run its own empty uv, pip and npm cache, and forces `make UV=.tools/bin/uv`, so uv itself is fetched
from PyPI as on a machine without it.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from busy import BUSY, busy_processes

ROOT = Path(__file__).resolve().parent.parent
PYTHON = "python3"
FORCE_TOOLS_UV = "UV=.tools/bin/uv"
TARGET_PLAN_SECONDS = 45.0
TARGET_TEST_SECONDS = 120.0
# Make echoes each command before it runs it: these echoed lines mark where a phase starts.
PHASES = (
    ("fetch uv into .tools", re.compile(r"^rm -rf \.tools$")),
    ("uv sync", re.compile(r"^UV_PROJECT_ENVIRONMENT=\S+ \S*uv sync ")),
    ("npm ci", re.compile(r"^npm ci ")),
    ("plan", re.compile(r"^\.venv/bin/appcdn plan ")),
    ("mypy", re.compile(r"^\.venv/bin/python -m mypy$")),
    ("pytest", re.compile(r"^\.venv/bin/python -m pytest$")),
)
# Any of these echoed in a run means it installed something.
INSTALL_STEP = re.compile(r"^(rm -rf \.tools|.*-m (venv|pip) |UV_PROJECT_ENVIRONMENT=|\S*uv (sync|lock)|npm ci|touch )")
ALSO_BUSY = ("plan_time.py",)  # besides test and CI runs (busy.py): the other benchmark
BUSY_POLL_SECONDS = 20
BUSY_MAX_WAIT_SECONDS = 15 * 60


@dataclass
class Run:
    seconds: float
    cpu: float  # user + system seconds of every process it ran: less sensitive than wall time to other load
    lines: list[tuple[float, str]]
    phases: dict[str, float] = field(default_factory=dict)

    def text(self) -> str:
        return "\n".join(line for _, line in self.lines)


def wait_until_quiet(step: str, warnings: list[str]) -> None:
    """Before each step: wait (polling) until no test, CI or benchmark run is running, at most
    BUSY_MAX_WAIT_SECONDS."""
    start = time.monotonic()
    while others := busy_processes(ALSO_BUSY):
        waited = time.monotonic() - start
        if waited >= BUSY_MAX_WAIT_SECONDS:
            warnings.append(f"{step}: measured while {len(others)} other process(es) ran: {others[0][:80]}")
            return
        print(
            f"  waiting for {len(others)} {BUSY} or plan_time.py process(es) ({waited:.0f} s so far): {others[0][:90]}",
            file=sys.stderr,
            flush=True,
        )
        time.sleep(BUSY_POLL_SECONDS)


def check_quiet_after(step: str, warnings: list[str]) -> None:
    """After a step (its own pytest has ended): anything running now likely overlapped it."""
    if others := busy_processes(ALSO_BUSY):
        warnings.append(f"{step}: other process(es) running at its end: {others[0][:80]}")


def fresh_env(tmp: Path, name: str) -> dict[str, str]:
    """The caller's environment with empty uv, pip and npm caches of its own."""
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "UV_PROJECT_ENVIRONMENT")}
    for var, sub in (("UV_CACHE_DIR", "uv"), ("PIP_CACHE_DIR", "pip"), ("npm_config_cache", "npm")):
        path = tmp / "caches" / name / sub
        path.mkdir(parents=True)
        env[var] = str(path)
    return env


def run(argv: list[str], cwd: Path, env: dict[str, str], log: Path) -> Run:
    """Run argv, timestamp every output line, fail loudly with the log's tail."""
    lines: list[tuple[float, str]] = []
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    with subprocess.Popen(
        argv,
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        bufsize=1,
        stdin=subprocess.DEVNULL,
    ) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append((time.monotonic() - start, line.rstrip("\n")))
    seconds = time.monotonic() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - usage.ru_utime - usage.ru_stime
    log.write_text("\n".join(f"{t:8.2f}  {line}" for t, line in lines) + "\n")
    if proc.returncode != 0:
        tail = "\n".join(line for _, line in lines[-30:])
        sys.exit(f"FAILED ({proc.returncode}): {' '.join(argv)} in {cwd}\n{tail}\nfull log: {log}")
    result = Run(seconds, cpu, lines)
    starts = [(t, name) for t, line in lines for name, pattern in PHASES if pattern.match(line)]
    starts.sort()
    for i, (t, name) in enumerate(starts):
        end = starts[i + 1][0] if i + 1 < len(starts) else seconds
        result.phases[name] = result.phases.get(name, 0.0) + end - t
    return result


def clone(tmp: Path, name: str) -> Path:
    dest = tmp / name
    subprocess.run(["git", "clone", "-q", str(ROOT), str(dest)], check=True)
    return dest


def mtimes(clone_dir: Path) -> dict[str, int]:
    venv = clone_dir / ".venv"
    paths = [venv / ".stamp-plan", *venv.glob("lib/python3*/site-packages"), clone_dir / "uv.lock"]
    return {str(p.relative_to(clone_dir)): p.stat().st_mtime_ns for p in paths if p.exists()}


def pip_env(env: dict[str, str]) -> dict[str, str]:
    """pip as a fresh machine has it: the package index only (no local find-links or extra indexes)."""
    env = {k: v for k, v in env.items() if k not in ("PIP_FIND_LINKS", "PIP_EXTRA_INDEX_URL", "PIP_CONSTRAINT")}
    env["PIP_CONFIG_FILE"] = os.devnull
    return env


def pip_path(tmp: Path, name: str, groups: list[str], plan: bool) -> tuple[float, dict[str, float], float]:
    """The old Makefile's steps (venv, upgrade pip, pip install -e) on the locked set, from empty caches."""
    src = clone(tmp, name)
    env = pip_env(fresh_env(tmp, name))
    reqs = src / "locked.txt"
    subprocess.run(
        [
            str(tmp / "uv-plan" / ".tools" / "bin" / "uv"),
            "export",
            "--frozen",
            "--no-dev",
            "--no-emit-project",
            "--quiet",
            "-o",
            str(reqs),
            *[a for g in groups for a in ("--group", g)],
        ],
        cwd=src,
        env=env,
        check=True,
    )
    pip = [str(src / ".venv" / "bin" / "python"), "-m", "pip", "--disable-pip-version-check", "install", "--quiet"]
    steps = [
        ("venv", [PYTHON, "-m", "venv", ".venv"]),
        ("upgrade pip", [*pip, "--upgrade", "pip"]),
        ("pip install -r (locked, hashes)", [*pip, "--require-hashes", "-r", str(reqs)]),
        ("pip install -e . --no-deps", [*pip, "--no-deps", "-e", "."]),
    ]
    if plan:
        steps.append(("plan", [".venv/bin/appcdn", "plan", "--stack", "test"]))
    times, cpu = {}, 0.0
    for label, argv in steps:
        print(f"  pip path ({name}): {label} ...", file=sys.stderr, flush=True)
        result = run(argv, src, env, tmp / f"{name}-{len(times)}.log")
        times[label], cpu = result.seconds, cpu + result.cpu
    total = sum(times.values())
    shutil.rmtree(src)
    return total, times, cpu


def fmt(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds:.1f} s"


def ratio(old: float | None, new: float | None) -> str:
    return "-" if old is None or not new else f"{old / new:.2f} x"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-test", action="store_true", help="skip the fresh `make test`")
    parser.add_argument("--no-pip", action="store_true", help="skip the old pip path")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (clones, logs)")
    args = parser.parse_args()

    head = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()
    python = subprocess.run([PYTHON, "--version"], capture_output=True, text=True, check=True).stdout.strip()
    print(
        f"commit {head}{' (uncommitted changes NOT measured)' if dirty else ''}; nproc {os.cpu_count()}, "
        f"{python}, load average {', '.join(f'{x:.2f}' for x in os.getloadavg())}, "
        f"PYTHONDONTWRITEBYTECODE={os.environ.get('PYTHONDONTWRITEBYTECODE', '(unset)')}"
    )
    warnings: list[str] = []

    tmp = Path(tempfile.mkdtemp(prefix="appcdn-setup-"))
    keep = args.keep
    try:
        # 1. fresh clone, empty caches: make plan, then make plan again.
        src = clone(tmp, "uv-plan")
        env = fresh_env(tmp, "uv-plan")
        wait_until_quiet("make plan", warnings)
        print("  uv: first make plan ...", file=sys.stderr, flush=True)
        first = run(["make", "plan", FORCE_TOOLS_UV], src, env, tmp / "uv-plan-1.log")
        if not re.search(r"^Stack test \(stage test\) declares \d+ resources:", first.text(), re.M):
            sys.exit(f"first make plan printed no plan; see {tmp / 'uv-plan-1.log'}")
        before = mtimes(src)
        print("  uv: second make plan ...", file=sys.stderr, flush=True)
        second = run(["make", "plan", FORCE_TOOLS_UV], src, env, tmp / "uv-plan-2.log")
        installs = [line for _, line in second.lines if INSTALL_STEP.match(line)]
        after = mtimes(src)
        no_install = not installs and before == after
        if not no_install:
            changed = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
            warnings.append(f"the second make plan installed: {installs or changed}")
        check_quiet_after("make plan", warnings)

        # 2. another fresh clone, empty caches: make test.
        test = None
        if not args.no_test:
            src_t = clone(tmp, "uv-test")
            wait_until_quiet("make test", warnings)
            print(
                "  uv: first make test (fetch uv, uv sync with the test group, npm ci, pytest) ...",
                file=sys.stderr,
                flush=True,
            )
            test = run(["make", "test", FORCE_TOOLS_UV], src_t, fresh_env(tmp, "uv-test"), tmp / "uv-test.log")
            shutil.rmtree(src_t)
            check_quiet_after("make test", warnings)

        # 3. the old path: pip into a fresh venv, same locked set, empty pip cache.
        pip_plan = pip_test = None
        if not args.no_pip:
            wait_until_quiet("pip-plan", warnings)
            pip_plan = pip_path(tmp, "pip-plan", [], plan=True)
            check_quiet_after("pip-plan", warnings)
            wait_until_quiet("pip-test", warnings)
            pip_test = pip_path(tmp, "pip-test", ["test"], plan=False)
            check_quiet_after("pip-test", warnings)
    except SystemExit:
        keep = True  # the logs the failure points to
        raise
    finally:
        if keep:
            print(f"kept {tmp}", file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)

    uv_plan_install = first.phases.get("fetch uv into .tools", 0.0) + first.phases.get("uv sync", 0.0)
    print()
    print(f"{'step':52} {'uv (make)':>10} {'old pip':>10} {'pip / uv':>9}")
    rows = [
        ("first make plan, total (until the plan is printed)", first.seconds, pip_plan[0] if pip_plan else None),
        ("  fetch uv into .tools (pip install uv)", first.phases.get("fetch uv into .tools"), None),
        (
            "  install (uv sync / venv + pip install)",
            first.phases.get("uv sync"),
            pip_plan[0] - pip_plan[1]["plan"] if pip_plan else None,
        ),
        ("  install incl. fetching uv", uv_plan_install, pip_plan[0] - pip_plan[1]["plan"] if pip_plan else None),
        ("  appcdn plan --stack test", first.phases.get("plan"), pip_plan[1]["plan"] if pip_plan else None),
        (f"second make plan ({'no install step' if no_install else 'INSTALLED'})", second.seconds, None),
    ]
    if test:
        test_install = test.phases.get("fetch uv into .tools", 0.0) + test.phases.get("uv sync", 0.0)
        rows += [
            ("first make test, total", test.seconds, None),
            ("  Python install incl. fetching uv (plan + test deps)", test_install, pip_test[0] if pip_test else None),
            ("  npm ci (Azurite), Redis and PostgreSQL if missing", test.phases.get("npm ci"), None),
            ("  mypy", test.phases.get("mypy"), None),
            ("  pytest", test.phases.get("pytest"), None),
        ]
    elif pip_test:
        rows.append(("Python install, plan + test deps", None, pip_test[0]))
    for label, new, old in rows:
        print(f"{label:52} {fmt(new):>10} {fmt(old):>10} {ratio(old, new):>9}")
    for name, result in (("pip-plan", pip_plan), ("pip-test", pip_test)):
        if result:
            print(f"old pip path, {name}: " + ", ".join(f"{k} {v:.1f} s" for k, v in result[1].items()))
    if test:
        summary = re.findall(r"=+ (.*\d+ passed.*) =+", test.text())
        print(f"pytest: {summary[-1] if summary else '?'}")
    cpu = [
        ("uv first make plan", first.cpu),
        ("uv make test", test.cpu if test else None),
        ("pip-plan", pip_plan[2] if pip_plan else None),
        ("pip-test", pip_test[2] if pip_test else None),
    ]
    print(
        "CPU time (user + system, all processes; less sensitive to other load than wall time): "
        + ", ".join(f"{label} {fmt(seconds)}" for label, seconds in cpu if seconds is not None)
    )
    for warning in warnings:
        print(f"WARNING: {warning}")
    print()
    print(
        f"target: first make plan <= {TARGET_PLAN_SECONDS:.0f} s: {first.seconds:.1f} s -> "
        f"{'met' if first.seconds <= TARGET_PLAN_SECONDS else 'MISSED'}"
    )
    print(f"target: second make plan runs no install step -> {'met' if no_install else 'MISSED'}")
    if test:
        setup = test.seconds - test.phases.get("mypy", 0.0) - test.phases.get("pytest", 0.0)
        print(
            f"target: first make test <= {TARGET_TEST_SECONDS:.0f} s: {test.seconds:.1f} s -> "
            f"{'met' if test.seconds <= TARGET_TEST_SECONDS else 'MISSED'} (set-up part {setup:.1f} s, "
            f"checks: mypy {test.phases.get('mypy', 0.0):.1f} s, pytest {test.phases.get('pytest', 0.0):.1f} s)"
        )


if __name__ == "__main__":
    main()
