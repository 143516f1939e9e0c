"""The GitHub Actions workflows, run: each job's steps in order in a fresh clone of a two-commit history, with the
runner's environment files emulated (tests/workflow_runner.py); and what GitHub reads from the files alone
(triggers, permissions, pins, approvals)."""

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from appcdn.commands.cli import load_stack
from appcdn.config.project import Project
from appcdn.rules.rulesets import ZoneRules
from tests.conftest import ROOT
from tests.loopback_edge import edge_state, loopback_edge
from tests.workflow_runner import RUNNER_PATH, Job, JobRun, clone, load

WORKFLOWS = ROOT / ".github" / "workflows"
UV_VERSION = re.search(r"^UV_VERSION := (\S+)$", (ROOT / "Makefile").read_text(), re.M)[1]  # type: ignore[index]
SECRETS = (
    "PULUMI_ACCESS_TOKEN",
    "PULUMI_BACKEND_URL",
    "PULUMI_CONFIG_PASSPHRASE",
    "CLOUDFLARE_API_TOKEN",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "ARM_CLIENT_ID",
    "ARM_CLIENT_SECRET",
    "ARM_TENANT_ID",
    "ARM_SUBSCRIPTION_ID",
)
FAKE_SECRETS = {name: f"fake-{name.lower()}" for name in SECRETS}
REPOSITORY = "example/shop-edge"


def live_stack() -> tuple[Project, dict[str, ZoneRules]]:
    """The live stack's project and zones: live owns example.com, so its rules cover the test stack's hosts too."""
    loaded = load_stack(ROOT, "live", "verify")
    assert loaded is not None
    return loaded[1], loaded[2]


def workflow(name: str) -> dict[str, Any]:
    return load(WORKFLOWS / f"{name}.yml")


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(repo), "-c", "user.email=t@example.com", "-c", "user.name=t", *args],
        check=True,
        capture_output=True,
        text=True,
    )
    return done.stdout.strip()


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """This project as committed work (its working tree, without what .gitignore leaves out), then a second
    commit that shortens the live static files' edge TTL; `workspace` is a clone of it, shared by the jobs
    below so that `make cli` builds .venv once (uv's cache makes that cheap after the first time)."""
    top = tmp_path_factory.mktemp("workflows")
    origin = top / "origin"
    git(top, "init", "-q", "-b", "main", str(origin))
    git(origin, f"--work-tree={ROOT}", "add", "-A")
    git(origin, f"--work-tree={ROOT}", "commit", "-q", "-m", "the project as it is")
    base = git(origin, "rev-parse", "HEAD")
    git(origin, "reset", "-q", "--hard")
    live = origin / "stacks" / "Pulumi.live.yaml"
    before = "edge_ttl: {mode: override_origin, default: 31536000}"
    assert live.read_text().count(before) == 1
    live.write_text(live.read_text().replace(before, "edge_ttl: {mode: override_origin, default: 86400}"))
    git(origin, "commit", "-q", "-am", "static files: one day at the edge")
    workspace = top / "workspace"
    clone(origin, workspace)
    return {"base": base, "head": git(origin, "rev-parse", "HEAD"), "workspace": workspace, "top": top}


def checkout(job: Job, inputs: dict[str, str], env: dict[str, str]) -> None:
    assert inputs["persist-credentials"] == "False"
    assert int(git(job.workspace, "rev-list", "--count", "HEAD")) >= 2  # the full history, as fetch-depth: 0


def setup_python(job: Job, inputs: dict[str, str], env: dict[str, str]) -> None:
    version = subprocess.run(["python3", "--version"], env=env, capture_output=True, text=True, check=True).stdout
    assert version.startswith(f"Python {inputs['python-version']}.")


def setup_node(job: Job, inputs: dict[str, str], env: dict[str, str]) -> None:
    version = subprocess.run(["node", "--version"], env=env, capture_output=True, text=True, check=True).stdout
    assert version.startswith(f"v{inputs['node-version']}.")


def sticky_comment(job: Job, inputs: dict[str, str], env: dict[str, str]) -> None:
    assert (job.workspace / inputs["path"]).read_text()  # the comment posts this file


def pulumi(job: Job, inputs: dict[str, str], env: dict[str, str]) -> None:
    """Where pulumi/actions would start `pulumi`: what its Python host will look up on PATH is there."""
    uv = subprocess.run(["uv", "--version"], env=env, capture_output=True, text=True, check=True).stdout
    assert uv.split()[1] == UV_VERSION
    which = subprocess.run(["which", "appcdn"], env=env, capture_output=True, text=True, check=True).stdout
    assert Path(which.strip()) == job.workspace / ".venv" / "bin" / "appcdn"


USES = {
    "actions/checkout": checkout,
    "actions/setup-python": setup_python,
    "actions/setup-node": setup_node,
    "marocchino/sticky-pull-request-comment": sticky_comment,
    "pulumi/actions": pulumi,
}


def run_job(
    history: dict[str, Any], name: str, job: str, secrets: dict[str, str], matrix: dict[str, str] | None = None
) -> JobRun:
    spec = workflow(name)["jobs"][job]
    temp = history["top"] / f"runner-{name}-{job}-{'-'.join((matrix or {}).values())}-{len(secrets)}"
    temp.mkdir()
    pull_request = {
        "number": 7,
        "base": {"sha": history["base"]},
        "head": {"sha": history["head"], "repo": {"full_name": REPOSITORY}},
    }
    contexts = {
        "github": {"repository": REPOSITORY, "event": {"pull_request": pull_request}, "token": "fake-github-token"},
        "secrets": {**secrets, "GITHUB_TOKEN": "fake-github-token"},
        "matrix": matrix or {},
    }
    return Job(spec, history["workspace"], temp, contexts).run(USES)


def test_the_diff_job_puts_the_semantic_diff_in_the_summary_and_the_sticky_comment(history: dict[str, Any]) -> None:
    run = run_job(history, "pull-request", "diff", secrets={})
    assert [s.ran for s in run.steps] == [True, True, True, True, True]
    assert run.summary.startswith("<!-- appcdn-diff -->\n## appcdn diff\n")
    assert "- shop (live) `www.example.com, example.com` `/static/*`: edge TTL 365d → 1d\n" in run.summary
    assert "`rules[shop-live-static].actionParameters.edgeTtl.default: 31536000 → 86400`" in run.summary
    assert "### Stack `test`" in run.summary  # both stacks
    assert run.reached["marocchino/sticky-pull-request-comment"]["header"] == "appcdn-diff"
    assert (history["workspace"] / "appcdn-diff.md").read_text() in run.summary
    assert (history["workspace"] / ".venv" / "bin" / "appcdn").exists()
    assert not (history["workspace"] / ".venv" / "bin" / "pytest").exists()  # make cli: no test group


PULUMI_JOBS = [
    ("pull-request", "preview", {"stack": "test"}, "pulumi preview (test)"),
    ("pull-request", "preview", {"stack": "live"}, "pulumi preview (live)"),
    ("deploy", "up-test", None, "pulumi up (test)"),
    ("deploy", "up-live", None, "pulumi up (live)"),
]


@pytest.mark.parametrize("name,job,matrix,title", PULUMI_JOBS)
def test_without_cloud_secrets_the_pulumi_jobs_skip_with_a_notice_and_succeed(
    history: dict[str, Any], name: str, job: str, matrix: dict[str, str] | None, title: str
) -> None:
    run = run_job(history, name, job, secrets={}, matrix=matrix)
    assert [s.ran for s in run.steps] == [True, True] + [False] * (len(run.steps) - 2)
    assert run.stdout.startswith(f"::notice title={title} skipped::no cloud credentials")
    assert "CLOUDFLARE_API_TOKEN" in run.stdout and "fake" not in run.stdout
    assert run.steps[1].outputs == {"available": "false"}
    assert "pulumi/actions" not in run.reached


@pytest.mark.parametrize("name,job,matrix,title", PULUMI_JOBS)
def test_with_cloud_secrets_the_pulumi_action_finds_uv_and_appcdn_on_path(
    history: dict[str, Any],
    name: str,
    job: str,
    matrix: dict[str, str] | None,
    title: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with loopback_edge(edge_state(*live_stack())) as edge:  # where `appcdn verify` checks the edge after `up`
        monkeypatch.setenv("APPCDN_VERIFY_EDGE", edge)
        run = run_job(history, name, job, secrets=FAKE_SECRETS, matrix=matrix)
    assert all(s.ran for s in run.steps) and run.steps[1].outputs == {"available": "true"}
    reached = run.reached["pulumi/actions"]
    assert reached["stack-name"] == (matrix or {"stack": job.removeprefix("up-")})["stack"]
    assert reached["command"] == ("preview" if name == "pull-request" else "up")
    assert reached["PATH"].endswith(RUNNER_PATH)  # the runner's PATH, with the workflow's additions in front
    assert not any(value in run.stdout for value in FAKE_SECRETS.values())
    if name == "deploy":
        assert (
            run.steps[-1].name == f"appcdn verify --stack {reached['stack-name']} (the report goes to the job summary)"
        )
        assert f"### appcdn verify --stack {reached['stack-name']}: exit 0\n\n- **agrees**: " in run.summary


@pytest.mark.parametrize("name", ["pull-request", "deploy"])
def test_the_test_job_runs_make_test_whose_targets_exist(history: dict[str, Any], name: str) -> None:
    """`make test` itself is what CI runs on this very commit; here make only says what it would do
    (MAKEFLAGS=n), which fails on a target that does not exist."""
    spec = workflow(name)["jobs"]["test"]
    assert [s["run"] for s in spec["steps"] if "run" in s] == ["make test"]
    assert "env" not in spec  # the tests never see the cloud secrets
    dry = {**spec, "env": {"MAKEFLAGS": "n"}}
    temp = history["top"] / f"runner-{name}-test"
    temp.mkdir()
    run = Job(dry, history["workspace"], temp, {"secrets": FAKE_SECRETS}).run(USES)
    assert "pytest" in run.steps[-1].stdout


def test_a_pull_request_runs_the_tests_the_diff_and_a_preview_of_both_stacks() -> None:
    pr = workflow("pull-request")
    assert pr["on"] == {"pull_request": None}
    assert set(pr["jobs"]) == {"test", "diff", "preview"}
    assert pr["jobs"]["preview"]["strategy"]["matrix"]["stack"] == ["test", "live"]


def test_main_deploys_test_then_live_behind_an_approval() -> None:
    deploy = workflow("deploy")
    assert deploy["on"] == {"push": {"branches": ["main"]}}
    jobs = deploy["jobs"]
    assert jobs["up-test"]["needs"] == "test" and jobs["up-live"]["needs"] == "up-test"
    assert (jobs["up-test"]["environment"], jobs["up-live"]["environment"]) == ("test", "live")
    assert deploy["concurrency"]["cancel-in-progress"] is False
    assert "env" not in deploy


ALLOWED = {"contents": {"read"}, "pull-requests": {"write"}}
"""The only permissions any job gets: read the code; write a PR comment (only the jobs that comment)."""
COMMENTING_JOBS = {("pull-request", "diff"), ("pull-request", "preview")}


@pytest.mark.parametrize("name", ["pull-request", "deploy"])
def test_permissions_are_least_privilege(name: str) -> None:
    spec = workflow(name)
    assert spec["permissions"] == {}  # nothing unless a job asks
    for job_name, job in spec["jobs"].items():
        granted = job["permissions"]
        assert all(access in ALLOWED[scope] for scope, access in granted.items()), job_name
        assert ("pull-requests" in granted) == ((name, job_name) in COMMENTING_JOBS), job_name


PINNED = re.compile(r"^\s+(?:- )?uses: [\w.-]+/[\w.-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+$")


@pytest.mark.parametrize("name", ["pull-request", "deploy"])
def test_every_action_is_pinned_to_a_commit_with_its_release_beside_it(name: str) -> None:
    lines = (WORKFLOWS / f"{name}.yml").read_text().splitlines()
    used = [line for line in lines if "uses:" in line]
    assert used and all(PINNED.match(line) for line in used), [line for line in used if not PINNED.match(line)]


def test_every_workflow_file_is_one_of_ours() -> None:
    assert sorted(p.name for p in WORKFLOWS.iterdir()) == ["deploy.yml", "pull-request.yml"]
