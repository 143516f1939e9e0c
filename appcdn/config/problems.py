"""A config problem names its file and key path; ``ConfigError`` carries all of a project's problems at once."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from appcdn.config.key_material import redacted


@dataclass(frozen=True)
class Problem:
    path: str
    """Key path inside the ``appcdn`` namespace, e.g. ``sites[0].cache.rules[2].edge_ttl.default``."""
    message: str
    file: str | None = None
    """The stack file the key is in, when known (``stacks/Pulumi.test.yaml``)."""
    line: int | None = None
    column: int | None = None
    """Where in the file (1-based), when the file was read from disk."""

    def __str__(self) -> str:
        """``file:line:col: path: message``; key material written as a key (a PEM as a zone name) is hidden in the
        path, and anything that looks like key material in the message (a key quoted by another check)."""
        path, message = redacted(self.path), redacted(self.message)
        located = f"{path}: {message}" if path else message
        where = self.file or ""
        if where and self.line is not None:
            where += f":{self.line}:{self.column}"
        return f"{where}: {located}" if where else located

    def in_file(self, file: str | None, spans: Mapping[str, Any] | None = None) -> Problem:
        """The problem in ``file`` (unless it names one already), at the nearest written ancestor of its path
        (``spans``: path → anything with ``line`` and ``column``)."""
        problem = self if self.file or file is None else replace(self, file=file)
        if problem.line is not None or not spans or problem.file != file:
            return problem
        path = problem.path
        while path:
            if path in spans:
                return replace(problem, line=spans[path].line, column=spans[path].column)
            parent = _PARENT.sub("", path)
            path = parent if parent != path else ""
        return problem


_PARENT = re.compile(r"(\.[^.\[]*|\[\d+\])$")


class ConfigError(Exception):
    """Every problem found in a project's stack config, reported together."""

    def __init__(self, problems: Iterable[Problem]):
        self.problems = sorted(set(problems), key=lambda p: (p.file or "", p.path, p.message))
        super().__init__(self.report())

    def report(self) -> str:
        lines = [f"invalid appcdn config ({len(self.problems)} problem(s)):"]
        lines += [f"  {p}" for p in self.problems]
        return "\n".join(lines)


def duplicate_names(
    path: str, names: Sequence[str], what: str, indexes: Sequence[int] | None = None
) -> Iterable[Problem]:
    """``indexes``: each name's index in the file, when some entries were left out."""
    for i, name in enumerate(names):
        if names.count(name) > 1:
            yield Problem(f"{path}[{indexes[i] if indexes else i}].name", f"{name!r} is used by more than one {what}")
