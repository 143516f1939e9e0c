"""The offline plan of any Pulumi Python program, not only appcdn's own: a project that composes appcdn's
components with its own resources previews the same way, without the Pulumi CLI or credentials.

``appcdn plan --cwd DIR`` comes here when no stack file of the project has ``appcdn:`` keys: the project's
``__main__.py`` (or its ``main:``) runs with ``runpy`` under Pulumi's mock engine
(``appcdn.commands.plan.mock_engine``), with
the stack file's config if there is one (``secure:`` values never decrypted), from its own folder.
"""

from __future__ import annotations

import json
import os
import runpy
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

from appcdn.commands.plan.mock_engine import run_program
from appcdn.commands.plan.resource_text import output_lines, resource_tree
from appcdn.config.fields import NAMESPACE
from appcdn.config.problems import ConfigError
from appcdn.config.pulumi_yaml.stack_files import read_stack_file, stack_names

EXIT_INVALID = 2


def is_appcdn_project(project_dir: Path) -> bool:
    """Whether any stack file of the project configures appcdn (``appcdn:`` keys). A project whose files cannot
    be read counts as appcdn's, whose plan reports every problem at its file, line and column."""
    prefix = NAMESPACE + ":"
    try:
        return any(
            any(key.startswith(prefix) for key in read_stack_file(project_dir, name).config)
            for name in stack_names(project_dir)
        )
    except ConfigError:
        return True


def main_file(project_dir: Path, project: dict[str, Any]) -> Path:
    """The program a Python project runs: ``main:`` (a file, or a folder with ``__main__.py``), else
    ``__main__.py``."""
    main = project_dir / str(project.get("main") or ".")
    return main / "__main__.py" if main.is_dir() else main


@contextmanager
def _in_project(project_dir: Path) -> Iterator[None]:
    """As Pulumi runs a program: from its folder, its modules importable."""
    cwd, path = Path.cwd(), list(sys.path)
    os.chdir(project_dir)
    sys.path.insert(0, str(project_dir))
    try:
        yield
    finally:
        os.chdir(cwd)
        sys.path[:] = path


def plan_program(project_dir: Path, stack: str, as_json: bool) -> int:
    project = yaml.safe_load((project_dir / "Pulumi.yaml").read_text()) or {}
    runtime = project.get("runtime")
    runtime_name = runtime.get("name") if isinstance(runtime, dict) else runtime
    if runtime_name != "python":
        print(
            f"appcdn plan: {project_dir} is a {runtime_name} program; only Python programs run offline "
            "(use `pulumi preview` for others)",
            file=sys.stderr,
        )
        return EXIT_INVALID
    program = main_file(project_dir, project)
    if not program.exists():
        print(f"appcdn plan: {program} does not exist", file=sys.stderr)
        return EXIT_INVALID
    config: dict[str, str] = {}
    secret_keys: list[str] = []
    source = "no stack file"
    if stack in stack_names(project_dir):
        own = read_stack_file(project_dir, stack)
        config, secret_keys, source = own.config, own.secret_keys, f"config from {own.label}"
    try:
        with _in_project(project_dir):
            planned = run_program(
                lambda: runpy.run_path(str(program), run_name="__main__"), project["name"], stack, config, secret_keys
            )
    except Exception as err:  # the program's own error, whatever it is: reported, not a traceback of ours
        print(f"appcdn plan: {program.relative_to(project_dir)} failed: {type(err).__name__}: {err}", file=sys.stderr)
        return EXIT_INVALID
    resources = sorted(planned.resources, key=lambda r: (r.parent or "", r.type, r.name))
    if as_json:
        print(
            json.dumps(
                {
                    "stack": stack,
                    "program": str(program.relative_to(project_dir)),
                    "resources": [r.as_json() for r in resources],
                    "outputs": planned.outputs,
                },
                indent=2,
                sort_keys=True,
            )
        )
        return 0
    print(
        f"Program {project['name']} ({program.relative_to(project_dir)}), stack {stack} ({source}), "
        f"declares {len(resources)} resources:"
    )
    print("\n".join(resource_tree(resources)))
    print("\nStack outputs:")
    print("\n".join(output_lines(planned.outputs)) or "  (none)")
    return 0
