"""Which processes would skew a benchmark: test runs and CI runs, known by the program a process runs.

Used by ``plan_time.py`` and ``setup_time.py`` (scripts in this folder; standard library only).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

BUSY = "pytest or CI (.ci/run)"
"""The processes ``runs_tests`` finds, in words."""
PYTHON_OPTIONS_WITH_VALUE = ("-W", "-X", "--check-hash-based-pycs")


def _program(argv: list[str]) -> str:
    """What a process runs: its program, or the script or module (``-m``) its Python or shell interpreter runs
    ("" for code given inline)."""
    if not argv:
        return ""
    name, args = Path(argv[0]).name, argv[1:]
    if re.fullmatch(r"python[\d.]*", name):
        while args and args[0].startswith("-"):
            if args[0] in ("-c", "-"):
                return ""
            if args[0] == "-m":
                return args[1] if len(args) > 1 else ""
            args = args[2:] if args[0] in PYTHON_OPTIONS_WITH_VALUE else args[1:]
        return args[0] if args else ""
    if name in ("bash", "sh", "dash"):
        return "" if "-c" in args else next((a for a in args if not a.startswith("-")), "")
    return argv[0]


def runs_tests(argv: list[str]) -> bool:
    """Whether a process with this command line is a test run (pytest) or a CI run (``.ci/run``), by the program
    it runs (``_program``), not by words among its arguments: an Azurite that a test run started, or that a CI
    clone left running, has ``--location /tmp/pytest-of-root/…``."""
    program = _program(argv)
    return Path(program).name in ("pytest", "py.test") or program.endswith(".ci/run")


def busy_processes(also: tuple[str, ...] = ()) -> list[str]:
    """Test and CI runs (``runs_tests``), and processes running a script named in ``also``, other than this one,
    each as its pid and command line."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            argv = cmdline.read_bytes().decode(errors="replace").split("\0")[:-1]
        except OSError:  # it ended while we looked
            continue
        pid = cmdline.parent.name
        if pid != str(os.getpid()) and (runs_tests(argv) or Path(_program(argv)).name in also):
            found.append(f"{pid} {' '.join(argv)}")
    return sorted(found, key=lambda line: int(line.split(" ", 1)[0]))
