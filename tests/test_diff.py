"""``appcdn diff``: a stack planned at a git ref and in the working tree, compared in words; the changes that
weaken safety first. Each test makes a throwaway git repository of a project."""

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from appcdn.commands.diff.compare import compare
from appcdn.commands.diff.git_ref import plan_working_tree
from appcdn.commands.diff.render import MARKER
from tests.conftest import ROOT, appcdn, project_dir, raw_config

MEDIA = {"backend": "aws", "aws": {"bucket_name": "shop-live-media"}, "domain": {"host": "media.example.com"}}


def git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-C", str(repo), "-c", "user.email=t@example.com", "-c", "user.name=t", *args],
        check=True,
        capture_output=True,
    )


def repository(tmp_path: Path, live: dict[str, Any], with_code: bool = False) -> Path:
    """A git repository holding a project with a live stack file, committed as the base."""
    repo = project_dir(tmp_path, live=live)
    if with_code:
        shutil.copytree(ROOT / "appcdn", repo / "appcdn", symlinks=True, ignore=shutil.ignore_patterns("__pycache__"))
        shutil.copytree(ROOT / "components", repo / "components", ignore=shutil.ignore_patterns("__pycache__"))
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "base")
    return repo


def change(repo: Path, live: dict[str, Any]) -> None:
    """Edit the working tree's live stack file (not committed)."""
    project_dir(repo, live=live)


def diff(capsys: pytest.CaptureFixture[str], repo: Path, *extra: str) -> tuple[int, str, str]:
    return appcdn(capsys, "diff", "--stack", "live", "--base", "main", *extra, cwd=repo)


def test_nothing_changed_exits_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = repository(tmp_path, raw_config())
    code, out, _ = diff(capsys, repo)
    assert code == 0
    assert "No changes." in out
    assert "planned with the working tree's code (it has no appcdn package)" in out


def test_caching_what_was_bypassed_is_flagged_first(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bypass = {"name": "api", "match": {"path_prefixes": ["/api/"]}, "action": "bypass"}
    repo = repository(tmp_path, raw_config(cache={"rules": [bypass]}))
    change(repo, raw_config(cache={"rules": [{**bypass, "action": "cache"}]}))
    code, out, _ = diff(capsys, repo)
    assert code == 1
    lines = out.splitlines()
    assert lines[2] == "  Safety-weakening changes:"
    assert lines[3].startswith("    ! shop (live) www.example.com /api/*: now cached! (edge TTL origin, else bypass")


def test_a_media_ttl_change_is_said_per_host_and_path_class(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = repository(tmp_path, raw_config(media=MEDIA))
    change(
        repo,
        raw_config(
            media={
                **MEDIA,
                "headers": [
                    {"match": "filer_public_thumbnails/*", "cache_control": "public, max-age=3600"},
                    {"match": "*", "cache_control": "public, max-age=3600"},
                ],
            }
        ),
    )
    code, out, _ = diff(capsys, repo)
    assert code == 1
    assert (
        "    shop (live) media.example.com /filer_public_thumbnails/*: edge TTL 365d → 1h, browser TTL 365d → 1h"
        in out.splitlines()
    )
    assert "Safety-weakening" not in out
    assert "~ changed cloudflare:index/ruleset:Ruleset  example-com-cache-rules" in out


def test_deleting_protected_media_and_widening_its_public_grant_are_flagged(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = repository(tmp_path, raw_config(media=MEDIA))
    change(repo, raw_config(media={**MEDIA, "public_prefixes": ["filer_public/", "docs/"]}))
    _, out, _ = diff(capsys, repo)
    assert (
        "    ! public grant widened: aws:s3/bucketPolicy:BucketPolicy shop-live-media-policy: anyone may "
        "s3:GetObject docs/*"
    ) in out
    change(repo, raw_config())
    _, out, _ = diff(capsys, repo)
    assert "    ! protected resource removed: aws:s3/bucket:Bucket shop-live-media-bucket" in out
    assert "    - removed aws:s3/bucket:Bucket  shop-live-media-bucket (protected)" in out


def test_renaming_a_bucket_replaces_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = repository(tmp_path, raw_config(media=MEDIA))
    change(repo, raw_config(media={**MEDIA, "aws": {"bucket_name": "shop-media-2"}}))
    code, out, _ = diff(capsys, repo, "--json")
    assert code == 1
    [stack] = json.loads(out)["stacks"]
    [bucket] = [r for r in stack["resources"] if r["type"] == "aws:s3/bucket:Bucket"]
    assert (bucket["kind"], bucket["weakens_safety"]) == ("replaced", True)
    assert {"path": "bucket", "before": "shop-live-media", "after": "shop-media-2"} in bucket["changes"]
    assert stack["weakens_safety"] == ["protected resource replaced: aws:s3/bucket:Bucket shop-live-media-bucket"]


def test_markdown_for_a_pull_request_comment_starts_with_its_marker(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = repository(tmp_path, raw_config())
    change(repo, raw_config(hosts=["www.example.com", "shop.example.com"]))
    code, out, _ = diff(capsys, repo, "--format", "markdown")
    assert code == 1
    assert out.startswith(MARKER + "\n## appcdn diff\n\n### Stack `live`")
    assert "- shop (live) `shop.example.com`: newly served" in out
    assert "- shop (live) `shop.example.com` `/static/*`: newly served: cached (edge TTL 30d" in out
    assert "| added | `cloudflare:index/dnsRecord:DnsRecord` | `shop-live-shop.example.com` |" in out


@pytest.mark.parametrize(
    "args,message",
    [
        (("--base", "no-such-ref"), "'no-such-ref' is not a commit"),
        (("--base", "main", "--stack", "staging"), "no stack 'staging'"),
    ],
)
def test_errors_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str], args: tuple[str, ...], message: str) -> None:
    repo = repository(tmp_path, raw_config())
    code, _, err = appcdn(capsys, "diff", "--stack", "live", *args, cwd=repo)
    assert code == 2 and message in err


def test_an_invalid_working_tree_config_exits_2_with_its_problems(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = repository(tmp_path, raw_config())
    change(repo, raw_config(colour="blue"))
    code, _, err = diff(capsys, repo)
    assert code == 2 and "sites[0].colour: unknown key" in err


def test_a_base_with_its_own_code_is_planned_with_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The base's defaults.py gives /static/ 7 days at the edge; the working tree's code gives 30."""
    repo = repository(tmp_path, raw_config(), with_code=True)
    defaults = repo / "appcdn" / "defaults.py"
    defaults.write_text(
        defaults.read_text().replace(
            "STATIC_EDGE_TTL: Final = 30 * 24 * 3600", "STATIC_EDGE_TTL: Final = 7 * 24 * 3600"
        )
    )
    git(repo, "commit", "-q", "-am", "base: a week")
    code, out, err = diff(capsys, repo)
    assert code == 1, err
    assert "base main (" in out and "planned with its own code" in out
    assert "    shop (live) www.example.com /static/*: edge TTL 7d → 30d" in out.splitlines()


def test_the_working_tree_side_is_the_offline_plan(tmp_path: Path) -> None:
    repo = project_dir(tmp_path, live=raw_config())
    head = plan_working_tree(repo, "live")
    same = compare("live", head, head)
    assert not same.changed and same.weakening() == []
    assert yaml.safe_load(json.dumps(same.as_json()))["head"]["planned_with"] == "the working tree's code"


def test_the_driver_prints_the_snapshot_or_the_config_problems(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from appcdn.commands.diff import snapshot as snapshot_driver

    (tmp_path / "good").mkdir()
    (tmp_path / "bad").mkdir()
    project_dir(tmp_path / "good", live=raw_config())
    project_dir(tmp_path / "bad", live=raw_config(colour="blue"))
    assert snapshot_driver.main([str(tmp_path / "good"), "live"]) == 0
    assert set(json.loads(capsys.readouterr().out)) == {"stack", "stage", "zones", "sites", "resources"}
    assert snapshot_driver.main([str(tmp_path / "bad"), "live"]) == 2
    assert "unknown key" in json.loads(capsys.readouterr().out)["error"]


def test_without_git_the_diff_says_so_and_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """No ``git`` on PATH once crashed the command with exit 1, which says "something changed"."""
    repo = repository(tmp_path, raw_config())
    (tmp_path / "empty").mkdir()
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    code, _, err = diff(capsys, repo)
    assert (code, err.strip()) == (
        2,
        "appcdn diff: git is not installed (or not on PATH): appcdn diff reads the base from git",
    )
