"""Seeded fuzzing of the shipped stack files: deleted keys, swapped types, duplicated entries, huge and negative
numbers, and broken lines. Every mutant is planned by the ``appcdn`` command in this process and ends in exit 0,
or exit 2 with every problem located (file, then line:column or a key path); never a traceback, never a hang."""

import copy
import random
import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import ROOT, appcdn

SEED = 20261126
MUTANTS = 40
LOCATED = re.compile(r"^stacks/Pulumi\.(live|test)\.yaml(:\d+:\d+: |: [a-z_]+[\w.\[\]-]*: )")
VALUES = [
    None,
    True,
    False,
    0,
    -1,
    -(2**70),
    2**70,
    1e308,
    -0.5,
    "",
    "x" * 300,
    "on",
    "1:00:00",
    [],
    {},
    ["a"],
    {"a": 1},
    "*",
    "/static/",
    "www.example.com",
]


def _places(node: object, path: tuple[object, ...] = ()) -> Iterator[tuple[Any, Any]]:
    """Every (container, key) in a parsed stack file."""
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, value in list(items):
        yield node, key
        yield from _places(value, (*path, key))


def mutate_data(rng: random.Random, data: dict[str, Any]) -> dict[str, Any]:
    data = copy.deepcopy(data)
    for _ in range(rng.randint(1, 3)):
        container, key = rng.choice(list(_places(data["config"])))
        action = rng.choice(["delete", "swap", "swap", "duplicate", "rename"])
        if action == "delete":
            del container[key]
        elif action == "swap":
            container[key] = copy.deepcopy(rng.choice(VALUES))
        elif action == "duplicate" and isinstance(container, list):
            container.insert(key, copy.deepcopy(container[key]))
        elif action == "rename" and isinstance(container, dict):
            container[f"{key}x" if isinstance(key, str) else 7] = container.pop(key)
    return data


def mutate_text(rng: random.Random, text: str) -> str:
    lines = text.splitlines()
    i = rng.randrange(len(lines))
    action = rng.choice(["delete", "duplicate", "tab", "truncate", "colon", "swap"])
    if action == "delete":
        del lines[i]
    elif action == "duplicate":
        lines.insert(i, lines[i])
    elif action == "tab":
        lines[i] = "\t" + lines[i]
    elif action == "truncate":
        lines = [*lines[:i], lines[i][: rng.randrange(len(lines[i]) + 1)]]
    elif action == "colon":
        lines[i] += ": x"
    else:
        j = rng.randrange(len(lines))
        lines[i], lines[j] = lines[j], lines[i]
    return "\n".join(lines) + "\n"


def mutants() -> Iterator[object]:
    rng = random.Random(SEED)
    shipped = {name: (ROOT / "stacks" / f"Pulumi.{name}.yaml").read_text() for name in ("live", "test")}
    for n in range(MUTANTS):
        files = dict(shipped)
        name = rng.choice(["live", "test"])
        if rng.random() < 0.6:
            files[name] = yaml.safe_dump(mutate_data(rng, yaml.safe_load(files[name])), sort_keys=False)
        else:
            files[name] = mutate_text(rng, files[name])
        yield pytest.param(files, rng.choice(["live", "test"]), id=f"mutant-{n}-{name}")


@pytest.mark.parametrize("files, stack", list(mutants()))
def test_a_mutated_stack_file_plans_or_is_refused_with_located_problems(
    files: dict[str, str], stack: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "stacks").mkdir()
    shutil.copy(ROOT / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
    for name, text in files.items():
        (tmp_path / "stacks" / f"Pulumi.{name}.yaml").write_text(text)
    started = time.perf_counter()
    code, _, err = appcdn(capsys, "plan", "--stack", stack, cwd=tmp_path)
    assert time.perf_counter() - started < 60  # the first plan of a session imports the provider SDKs
    assert code in (0, 2), err
    assert "Traceback" not in err
    if code == 2:
        problems = [line.strip() for line in err.splitlines() if line.startswith("  ")]
        assert problems, err
        assert all(LOCATED.match(p) for p in problems), err
