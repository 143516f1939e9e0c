"""A corpus of broken and contradictory stack files (``tests/stack_corpus/<case>/``), each planned by the
``appcdn`` command in this process: exit 2, every problem located (file:line:col and key path, as listed in the
case's ``expected.txt``), no traceback, no secret value, in bounded time.

``expected.txt``: ``#`` lines say which design rule covers the case; ``stack: test`` plans that stack (default
live); ``exit: 0`` expects success; every other line is the start of one reported line, in order (problems as
sorted by the command, then warnings).
"""

import re
import shutil
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT, appcdn

CORPUS = Path(__file__).parent / "stack_corpus"
CASES = sorted(p.name for p in CORPUS.iterdir() if p.is_dir())


def expectations(case: Path) -> tuple[str, int, list[str]]:
    stack, code, lines = "live", 2, []
    for line in (case / "expected.txt").read_text().splitlines():
        if line.startswith("#") or not line.strip():
            continue
        if line.startswith("stack: "):
            stack = line.removeprefix("stack: ")
        elif line.startswith("exit: "):
            code = int(line.removeprefix("exit: "))
        else:
            lines.append(line)
    return stack, code, lines


def reported(err: str) -> list[str]:
    """The problem and warning lines of the command's error output."""
    problems = [line.strip() for line in err.splitlines() if line.startswith("  ")]
    return problems + [line for line in err.splitlines() if line.startswith("warning: ")]


@pytest.mark.parametrize("case", CASES)
def test_corpus_case(case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = CORPUS / case
    (tmp_path / "stacks").mkdir()
    shutil.copy(ROOT / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
    for stack_file in source.glob("Pulumi.*.yaml"):
        shutil.copy(stack_file, tmp_path / "stacks" / stack_file.name, follow_symlinks=False)
    stack, expected_code, expected = expectations(source)
    started = time.perf_counter()
    code, _, err = appcdn(capsys, "plan", "--stack", stack, cwd=tmp_path)
    assert time.perf_counter() - started < (5 if expected_code else 60)  # a plan imports the provider SDKs once
    assert code == expected_code, err
    assert "Traceback" not in err and "BEGIN" not in err and "SECRETVALUE" not in err
    lines = reported(err)
    assert len(lines) == len(expected), "\n".join(lines)
    for line, start in zip(lines, expected):
        assert line.startswith(start), f"{line!r} does not start with {start!r}"


def schema_has(path: str) -> bool:
    """Whether a key path names a place the config schema has (so a message about it never invents a key)."""
    from typing import Annotated, Union, get_args, get_origin

    from pydantic import BaseModel

    from appcdn.config.stack import StackConfig

    def inner(kind: object, tokens: list[str]) -> bool:
        while get_origin(kind) in (Annotated, Union) or type(kind).__name__ == "UnionType":
            options = [a for a in get_args(kind) if a is not type(None)]
            if get_origin(kind) is Annotated:
                options = options[:1]
            if len(options) > 1:
                return any(inner(option, tokens) for option in options)
            kind = options[0]
        if not tokens:
            return True
        head, rest = tokens[0], tokens[1:]
        if isinstance(kind, type) and issubclass(kind, BaseModel):
            fields = {f.alias or name: f.annotation for name, f in kind.model_fields.items()}
            return head in fields and inner(fields[head], rest)
        if get_origin(kind) is list:
            return head.isdigit() and inner(get_args(kind)[0], rest)
        if get_origin(kind) is dict:  # a key of any text, dots included: try every split
            return any(inner(get_args(kind)[1], tokens[n:]) for n in range(1, len(tokens) + 1))
        return False

    return inner(StackConfig, re.findall(r"[^.\[\]]+", path))


def test_every_problem_names_a_key_the_schema_has_or_says_it_is_unknown(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for case in CASES:
        project = tmp_path / case
        (project / "stacks").mkdir(parents=True)
        shutil.copy(ROOT / "Pulumi.yaml", project / "Pulumi.yaml")
        for stack_file in (CORPUS / case).glob("Pulumi.*.yaml"):
            shutil.copy(stack_file, project / "stacks" / stack_file.name, follow_symlinks=False)
        stack, code, _ = expectations(CORPUS / case)
        if code:
            _, _, err = appcdn(capsys, "plan", "--stack", stack, cwd=project)
            for line in reported(err):
                found = re.match(r"^\S+?:\d+:\d+: ([a-z_]+(?:[.\[][^:\s]*)?): (.*)$", line)
                if found:
                    path, message = found.groups()
                    if message.startswith("unknown key"):
                        path = re.sub(r"(\.[^.\[]*|\[\d+\])$", "", path)
                    assert schema_has(path), line
