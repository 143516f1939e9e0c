"""A GitHub Actions job run here as the runner runs it: its steps in order in a clone, each `run:` in
`bash -e`, with the environment files (GITHUB_OUTPUT, GITHUB_ENV, GITHUB_PATH, GITHUB_STEP_SUMMARY) read
back after every step as the runner reads them, `${{ }}` expressions and `if:` conditions evaluated, and each
`uses:` step replaced by what that action does here (see USES)."""

import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

RUNNER_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
"""The runner image's PATH, without any uv: the workflow must bring its own."""

NOT_PASSED: tuple[str, ...] = (
    "VIRTUAL_ENV",
    "UV_",
    "PYTHON",
    "COV_",
    "COVERAGE",
    "PYTEST",
    "PULUMI",
    "CLOUDFLARE",
    "ARM_",
    "GITHUB",
)
NOT_PASSED += ("AWS_ACCESS", "AWS_SECRET", "AWS_SESSION", "AWS_PROFILE", "AWS_ENDPOINT", "AZURE_STORAGE")
"""Not from this machine's environment into the job's: the test process's own venv, coverage and cloud settings.
The rest (the machine's CA bundle, package index and proxy settings, HOME and so the caches) is the runner's."""

EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
COMPARISON = re.compile(r"^(.+?)\s*(==|!=)\s*(.+)$")


def load(path: Path) -> dict[str, Any]:
    loaded: dict[Any, Any] = yaml.safe_load(path.read_text())
    loaded["on"] = loaded.pop(True)  # YAML 1.1 reads the key `on` as true
    return loaded


@dataclass
class StepResult:
    name: str
    ran: bool
    stdout: str = ""
    stderr: str = ""
    outputs: dict[str, str] = field(default_factory=dict)


@dataclass
class JobRun:
    steps: list[StepResult]
    summary: str
    """Every step's GITHUB_STEP_SUMMARY, in order, as the run page shows them."""
    env: dict[str, str]
    """The job's environment after its last step (GITHUB_ENV and GITHUB_PATH applied)."""
    reached: dict[str, dict[str, str]]
    """Per action not run here (the Pulumi action, the PR comment): its inputs and the environment it got."""

    @property
    def stdout(self) -> str:
        return "".join(s.stdout for s in self.steps)


def read_env_file(text: str) -> dict[str, str]:
    """`name=value` lines and `name<<DELIMITER` … `DELIMITER` blocks, as the runner reads them."""
    values: dict[str, str] = {}
    lines = iter(text.splitlines())
    for line in lines:
        if not line:
            continue
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = line.split("<<", 1)
            body = []
            for inner in lines:
                if inner == delimiter:
                    break
                body.append(inner)
            else:
                raise AssertionError(f"unterminated {name}<<{delimiter}")
            values[name] = "\n".join(body)
        else:
            name, value = line.split("=", 1)
            values[name] = value
    return values


class Job:
    """One job of a workflow, with the contexts its expressions read."""

    def __init__(self, spec: dict[str, Any], workspace: Path, temp: Path, contexts: dict[str, Any]):
        self.spec, self.workspace, self.temp = spec, workspace, temp
        self.contexts = {"steps": {}, "env": {}, **contexts}

    def value(self, operand: str) -> Any:
        operand = operand.strip()
        if operand.startswith("'") and operand.endswith("'"):
            return operand[1:-1].replace("''", "'")
        if operand in ("true", "false"):
            return operand == "true"
        current: Any = self.contexts
        for part in operand.split("."):
            if not re.fullmatch(r"[\w-]+", part):
                raise AssertionError(f"expression not emulated: {operand!r}")
            current = current.get(part, "") if isinstance(current, dict) else ""
        return current

    def condition(self, expression: str) -> bool:
        """The `if:` forms our workflows use: a comparison or a single value."""
        expression = EXPRESSION.sub(r"\1", expression).strip()
        compared = COMPARISON.match(expression)
        if compared:
            left, operator, right = compared.groups()
            same = self.value(left) == self.value(right)
            return same if operator == "==" else not same
        return bool(self.value(expression))

    def render(self, text: Any) -> Any:
        if not isinstance(text, str):
            return text
        return EXPRESSION.sub(lambda m: str(self.value(m.group(1))), text)

    def run(self, uses: dict[str, Any]) -> JobRun:
        env = {name: value for name, value in os.environ.items() if not name.startswith(NOT_PASSED)}
        env.update(PATH=RUNNER_PATH, CI="true", GITHUB_ACTIONS="true", GITHUB_WORKSPACE=str(self.workspace))
        env.update(RUNNER_TEMP=str(self.temp))
        job_env = {name: str(self.render(value)) for name, value in self.spec.get("env", {}).items()}
        env.update(job_env)
        self.contexts["env"] = dict(job_env)
        results: list[StepResult] = []
        summary: list[str] = []
        reached: dict[str, dict[str, str]] = {}
        for index, step in enumerate(self.spec["steps"]):
            name = step.get("name") or step.get("run") or step["uses"]
            if "if" in step and not self.condition(step["if"]):
                results.append(StepResult(name, ran=False))
                continue
            step_env = {**env, **{k: str(self.render(v)) for k, v in step.get("env", {}).items()}}
            files = {kind: self.temp / f"{kind.lower()}-{index}" for kind in ("OUTPUT", "ENV", "PATH", "STEP_SUMMARY")}
            for kind, path in files.items():
                path.write_text("")
                step_env[f"GITHUB_{kind}"] = str(path)
            if "run" in step:
                script = self.temp / f"step-{index}.sh"
                script.write_text(self.render(step["run"]))
                done = subprocess.run(
                    ["bash", "-e", str(script)],  # the runner's default shell on Linux: bash -e {0}
                    cwd=self.workspace,
                    env=step_env,
                    capture_output=True,
                    text=True,
                    timeout=900,
                )
                assert done.returncode == 0, f"step {name!r} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
                result = StepResult(name, True, done.stdout, done.stderr)
            else:
                action = step["uses"].split("@")[0]
                inputs = {k: str(self.render(v)) for k, v in step.get("with", {}).items()}
                assert action in uses, f"no emulation of {action}"
                uses[action](self, inputs, step_env)
                reached[action] = {**inputs, "PATH": step_env["PATH"]}
                result = StepResult(name, True)
            result.outputs = read_env_file(files["OUTPUT"].read_text())
            if "id" in step:
                self.contexts["steps"][step["id"]] = {"outputs": result.outputs, "outcome": "success"}
            added = read_env_file(files["ENV"].read_text())
            env.update(added)
            self.contexts["env"].update(added)
            for line in files["PATH"].read_text().splitlines():
                if line.strip():  # each line is put in front of PATH for the steps after this one
                    env["PATH"] = f"{line.strip()}:{env['PATH']}"
            summary.append(files["STEP_SUMMARY"].read_text())
            results.append(result)
        return JobRun(results, "".join(summary), env, reached)


def clone(origin: Path, workspace: Path) -> None:
    """actions/checkout with fetch-depth 0: the repository with its full history, the commit checked out."""
    if workspace.exists():
        shutil.rmtree(workspace)
    subprocess.run(["git", "clone", "-q", str(origin), str(workspace)], check=True, capture_output=True)
