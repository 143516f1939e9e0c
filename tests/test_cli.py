"""The ``appcdn`` command's exit codes: an internal error (a bug) of any command exits 70, said on one line with
where it was raised and no traceback or key material; never 0, never 1 (diff's "something changed", media's
"some objects failed"), never 2 (the user's input)."""

import json
import subprocess
import sys
from pathlib import Path
from typing import NoReturn

import pytest

from appcdn.commands.cli import EXIT_INTERNAL
from appcdn.config.pulumi_yaml import stack_files
from tests.conftest import ROOT, appcdn, project_dir, raw_config

PEM = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7\n-----END PRIVATE KEY-----\n"


def fails_inside(*args: object, **kwargs: object) -> NoReturn:
    """A fault injected where every command starts: reading the project file."""
    raise RuntimeError(f"state no input can cause, near {PEM}")


@pytest.mark.parametrize(
    "command",
    [
        ("plan", "--stack", "live"),
        ("plan", "--stack", "live", "--json"),
        ("adopt", "--stack", "live"),
        ("media", "sync-headers", "--stack", "live", "--site", "shop", "--dry-run"),
        ("media", "purge", "--stack", "live", "--site", "shop", "--dry-run"),
        ("diff", "--stack", "live", "--base", "main"),
    ],
    ids=lambda c: " ".join(c[:2]),
)
def test_an_internal_error_of_any_command_exits_70_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, command: tuple[str, ...]
) -> None:
    project = project_dir(tmp_path, live=raw_config())
    subprocess.run(["git", "init", "-q", "-b", "main", str(project)], check=True)
    git = ["git", "-C", str(project), "-c", "user.email=t@example.com", "-c", "user.name=t"]
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "base"], check=True)
    monkeypatch.setattr(stack_files, "stack_config_dir", fails_inside)
    code, _, err = appcdn(capsys, *command, cwd=project)
    name = " ".join(command[:2]) if command[0] == "media" else command[0]
    assert code == EXIT_INTERNAL == 70
    assert err.startswith(
        f"appcdn {name}: internal error (a bug in appcdn, not in your files; please report it): RuntimeError at "
        "appcdn/config/pulumi_yaml/stack_files.py:"
    )
    assert err.rstrip().endswith(": state no input can cause, near [not shown]")
    assert "Traceback" not in err and "BEGIN" not in err and "MIIE" not in err
    assert len(err.strip().splitlines()) == 1


def test_the_executable_prints_all_it_has_to_say_and_exits_with_the_commands_code() -> None:
    """``appcdn`` ends its process without the interpreter's teardown: its output must be flushed first."""
    executable = str(Path(sys.executable).parent / "appcdn")
    done = subprocess.run([executable, "plan", "--stack", "test", "--json", "--cwd", str(ROOT)], capture_output=True)
    assert done.returncode == 0 and json.loads(done.stdout)["stack"] == "test"
    unknown = subprocess.run(
        [executable, "plan", "--stack", "nope", "--cwd", str(ROOT)], capture_output=True, text=True
    )
    assert unknown.returncode == 2 and unknown.stdout == ""
    assert unknown.stderr.startswith("appcdn plan: no stack 'nope'")


def test_a_reader_that_goes_away_ends_the_command_quietly_as_a_closed_pipe_does() -> None:
    """``appcdn plan | true``: no internal error, no traceback, 141 as for a process SIGPIPE ends; both when the
    pipe closes while the plan prints (a long JSON plan) and at the final flush (a short text one)."""
    executable = str(Path(sys.executable).parent / "appcdn")
    for stack, json_flag in (("live", "--json"), ("test", "")):
        done = subprocess.run(
            [
                "bash",
                "-c",
                f'"{executable}" plan --stack {stack} {json_flag} --cwd "{ROOT}" | true; echo "${{PIPESTATUS[0]}}"',
            ],
            capture_output=True,
            text=True,
        )
        assert (done.stdout.strip(), done.stderr) == ("141", ""), stack
