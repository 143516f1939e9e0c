"""The GitHub Actions workflows: what runs on a pull request and on main, and with which permissions."""

import re
import subprocess

import pytest
import yaml

from tests.conftest import ROOT

WORKFLOWS = ROOT / ".github" / "workflows"
ALLOWED = {"contents": {"read"}, "pull-requests": {"write"}}
"""The only permissions any job gets: read the code; write a PR comment (only the jobs that comment)."""
COMMENTING_JOBS = {("pull-request", "diff"), ("pull-request", "preview")}


def workflow(name: str) -> dict:
    loaded = yaml.safe_load((WORKFLOWS / f"{name}.yml").read_text())
    loaded["on"] = loaded.pop(True)  # YAML 1.1 reads the key `on` as true
    return loaded


def steps(job: dict) -> list[dict]:
    return job["steps"]


def runs(job: dict) -> str:
    return "\n".join(s.get("run", "") for s in steps(job))


def uses(job: dict, action: str) -> list[dict]:
    return [s for s in steps(job) if s.get("uses", "").split("@")[0] == action]


def test_every_workflow_file_is_one_of_ours():
    assert sorted(p.name for p in WORKFLOWS.iterdir()) == ["deploy.yml", "pull-request.yml"]


def test_a_pull_request_runs_the_tests_the_diff_and_a_preview_of_both_stacks():
    pr = workflow("pull-request")
    assert pr["on"] == {"pull_request": None}
    jobs = pr["jobs"]
    assert set(jobs) == {"test", "diff", "preview"}
    assert "make test" in runs(jobs["test"])
    diff = runs(jobs["diff"])
    assert '--stack test --stack live --base "$BASE" --format markdown' in diff
    assert jobs["diff"]["steps"][0]["with"]["fetch-depth"] == 0
    [comment] = uses(jobs["diff"], "marocchino/sticky-pull-request-comment")
    assert comment["with"] == {"header": "appcdn-diff", "path": "appcdn-diff.md"}  # one comment, updated
    assert jobs["preview"]["strategy"]["matrix"]["stack"] == ["test", "live"]
    [preview] = uses(jobs["preview"], "pulumi/actions")
    assert preview["with"]["command"] == "preview" and preview["with"]["comment-on-pr"] is True


def test_the_diff_fails_the_job_only_on_an_error_not_on_changes():
    diff = runs(workflow("pull-request")["jobs"]["diff"])
    assert 'if [ "$code" -ge 2 ]; then exit "$code"; fi' in diff


@pytest.mark.parametrize("name,job", [("pull-request", "preview"), ("deploy", "up-test"), ("deploy", "up-live")])
def test_real_pulumi_runs_are_skipped_with_a_notice_without_cloud_credentials(name, job):
    spec = workflow(name)["jobs"][job]
    check = next(s for s in steps(spec) if s.get("id") == "credentials")
    assert check["run"].startswith(".github/scripts/cloud-credentials ") and "${{" not in check["run"]
    later = steps(spec)[steps(spec).index(check) + 1 :]
    assert later and all(s["if"] == "steps.credentials.outputs.available == 'true'" for s in later)
    assert {"PULUMI_ACCESS_TOKEN", "CLOUDFLARE_API_TOKEN", "AWS_ACCESS_KEY_ID", "ARM_CLIENT_SECRET"} <= set(spec["env"])


def test_the_credentials_check_says_what_is_missing_and_does_not_fail(tmp_path):
    output = tmp_path / "output"
    done = subprocess.run(
        [str(ROOT / ".github" / "scripts" / "cloud-credentials"), "pulumi preview (live)"],
        env={"GITHUB_OUTPUT": str(output), "PATH": "/usr/bin:/bin", "CLOUDFLARE_API_TOKEN": "t"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.startswith("::notice title=pulumi preview (live) skipped::no cloud credentials")
    assert "CLOUDFLARE_API_TOKEN" not in done.stdout and "AWS_ACCESS_KEY_ID" in done.stdout
    assert output.read_text() == "available=false\n"


def test_main_deploys_test_then_live_behind_an_approval():
    deploy = workflow("deploy")
    assert deploy["on"] == {"push": {"branches": ["main"]}}
    jobs = deploy["jobs"]
    assert jobs["up-test"]["needs"] == "test" and jobs["up-live"]["needs"] == "up-test"
    assert (jobs["up-test"]["environment"], jobs["up-live"]["environment"]) == ("test", "live")
    for job, stack in (("up-test", "test"), ("up-live", "live")):
        [up] = uses(jobs[job], "pulumi/actions")
        assert (up["with"]["command"], up["with"]["stack-name"]) == ("up", stack)
    assert deploy["concurrency"]["cancel-in-progress"] is False
    assert "env" not in deploy and "env" not in jobs["test"]  # the tests never see the cloud secrets


@pytest.mark.parametrize("name", ["pull-request", "deploy"])
def test_permissions_are_least_privilege(name):
    spec = workflow(name)
    assert spec["permissions"] == {}  # nothing unless a job asks
    for job_name, job in spec["jobs"].items():
        granted = job["permissions"]
        assert all(access in ALLOWED[scope] for scope, access in granted.items()), job_name
        assert ("pull-requests" in granted) == ((name, job_name) in COMMENTING_JOBS), job_name


PINNED = re.compile(r"^\s+(?:- )?uses: [\w.-]+/[\w.-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+$")


@pytest.mark.parametrize("name", ["pull-request", "deploy"])
def test_every_action_is_pinned_to_a_commit_with_its_release_beside_it(name):
    lines = (WORKFLOWS / f"{name}.yml").read_text().splitlines()
    used = [line for line in lines if "uses:" in line]
    assert used and all(PINNED.match(line) for line in used), [line for line in used if not PINNED.match(line)]


@pytest.mark.parametrize("name", ["pull-request", "deploy"])
def test_no_checkout_leaves_its_token_in_the_clone(name):
    for job in workflow(name)["jobs"].values():
        for step in uses(job, "actions/checkout"):
            assert step["with"]["persist-credentials"] is False
