"""A stack planned offline at a git ref: the ref's tree materialised in a temporary folder by git itself
(``read-tree`` and ``checkout-index`` through an index of its own).

Which code plans it: the ref's own, when its tree holds the ``appcdn`` package — in a separate interpreter
whose path starts with that tree (the ``appcdn`` imported here is the working tree's, and two versions of one
package cannot share a process), running ``appcdn.commands.diff.snapshot``. When the ref has no ``appcdn`` package
(a project that installs appcdn), or its code cannot run the driver (too old, a dependency it needs is not
installed), the ref's stack files are planned with the working tree's code instead, and the result says so.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from appcdn.commands.diff import snapshot as snapshot_driver
from appcdn.config.problems import ConfigError

OWN_CODE = "its own code"
DRIVER_TIMEOUT = 600


class PlanError(Exception):
    """The stack cannot be planned at this ref (unknown ref, no project there, invalid config)."""


@dataclass(frozen=True)
class Planned:
    """One side of a diff: where it comes from, which code planned it, and the plan as plain data."""

    label: str
    planned_with: str
    snapshot: dict[str, Any]


def _git(root: Path, *args: str, env: dict[str, str] | None = None) -> bytes:
    try:
        done = subprocess.run(["git", "-C", str(root), *args], capture_output=True, check=False, env=env)
    except FileNotFoundError:
        raise PlanError("git is not installed (or not on PATH): appcdn diff reads the base from git") from None
    if done.returncode != 0:
        raise PlanError(f"git {' '.join(args)}: {done.stderr.decode(errors='replace').strip()}")
    return done.stdout


def plan_working_tree(project_dir: Path, stack: str) -> Planned:
    return Planned("working tree", "the working tree's code", _in_process(project_dir, stack))


def _in_process(project_dir: Path, stack: str) -> dict[str, Any]:
    try:
        return snapshot_driver.snapshot(project_dir, stack)
    except ConfigError as err:
        raise PlanError(f"stack {stack}: {err.report()}") from None
    except FileNotFoundError as err:
        raise PlanError(str(err)) from None


def _run_own_code(tree: Path, project_dir: Path, stack: str) -> dict[str, Any] | str:
    """The snapshot from the tree's own code, or why it could not be made that way."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    source = Path(snapshot_driver.__file__).read_text()
    try:
        done = subprocess.run(
            [sys.executable, "-c", source, str(project_dir), stack],
            cwd=tree,
            env=env,
            capture_output=True,
            text=True,
            timeout=DRIVER_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return f"its code did not finish within {DRIVER_TIMEOUT} s"
    if done.returncode == 2 and done.stdout.startswith("{"):
        raise PlanError(f"stack {stack}: {json.loads(done.stdout)['error']}")
    if done.returncode != 0:
        lines = done.stderr.strip().splitlines()
        return f"its code could not plan it: {lines[-1] if lines else f'exit {done.returncode}'}"
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def _export(root: Path, commit: str, tree: Path) -> None:
    """The commit's files written into ``tree`` by git itself, through an index of its own: the repository's
    index and working tree stay untouched, and no archive is unpacked (tarfile's safe ``filter`` needs Python
    3.11.4; Debian 12's 3.11.2 lacks it)."""
    env = {**os.environ, "GIT_INDEX_FILE": str(tree.parent / "index")}
    _git(root, "read-tree", commit, env=env)
    _git(root, "checkout-index", "--all", f"--prefix={tree}/", env=env)


def plan_ref(project_dir: Path, stack: str, ref: str) -> Planned:
    """The stack as it is at ``ref``, planned offline with the ref's own code where possible."""
    root = Path(_git(project_dir, "rev-parse", "--show-toplevel").decode().strip())
    try:
        commit = _git(root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}").decode().strip()
    except PlanError:
        raise PlanError(f"{ref!r} is not a commit of the repository at {root}") from None
    label = f"{ref} ({commit[:7]})"
    with tempfile.TemporaryDirectory(prefix="appcdn-base-") as tmp:
        tree = Path(tmp) / "tree"
        _export(root, commit, tree)
        base_project = tree / project_dir.resolve().relative_to(root.resolve())
        if not (base_project / "Pulumi.yaml").exists():
            raise PlanError(f"{ref} has no Pulumi project at {base_project.relative_to(tree)}")
        if (tree / "appcdn" / "__init__.py").exists():
            own = _run_own_code(tree, base_project, stack)
            if isinstance(own, dict):
                return Planned(label, OWN_CODE, own)
            reason = own
        else:
            reason = "it has no appcdn package"
        return Planned(label, f"the working tree's code ({reason})", _in_process(base_project, stack))
