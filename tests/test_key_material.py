"""Key material (a PEM block, a token, a URL's credentials) is never printed: not as a value, not as a key written
in its place (a PEM as a zone name), not quoted by another check; and a field that is not secret refuses it,
since the plan, its JSON and the diff print those fields and the providers get them in plain text."""

import copy
import random
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from appcdn.config.key_material import looks_like_key_material, redacted
from tests.conftest import ROOT, ZONE_ID, appcdn, problems_of, project_dir, raw_config

PEM = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7\n-----END PRIVATE KEY-----\n"
TOKEN = "Yq8x3T0kLm4Np7Rs2Vw5Zb9Cd1Fg6Hj0Kl2Mn4Pq"  # a Cloudflare API token's shape: 40 of [A-Za-z0-9_-]
HIDDEN = "the value (not shown: it may be secret)"


@pytest.mark.parametrize("text", [PEM, PEM.splitlines()[0], TOKEN, f"x {TOKEN} y", "rediss://:pw@cache:6380/0"])
def test_key_material_is_recognised(text: str) -> None:
    assert looks_like_key_material(text)
    assert "MIIE" not in redacted(text) and TOKEN not in redacted(text) and ":pw@" not in redacted(text)


@pytest.mark.parametrize(
    "text",
    [
        ZONE_ID,
        "shop-live-media-with-a-rather-long-bucket-name",
        "/filer_public_thumbnails/2024/very-long-folder-name/*",
        "public, max-age=31536000",
        "sites[0].media.headers[12].cache_control",
        "023E105F4ECEF8AD9CA31A8372D0C353",
    ],
)
def test_names_hex_ids_and_paths_are_not_key_material(text: str) -> None:
    assert not looks_like_key_material(text) and redacted(text) == text


def test_a_pem_as_a_zone_name_is_hidden_in_the_key_path_and_wherever_it_is_quoted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """It was once echoed over four lines in the key path of the error."""
    raw = raw_config()
    raw["zones"] = {PEM: {"id": ZONE_ID}}
    code, out, err = appcdn(capsys, "plan", "--stack", "live", cwd=project_dir(tmp_path, live=raw))
    assert code == 2 and "MIIE" not in out + err and "BEGIN" not in out + err
    assert [line.strip() for line in err.splitlines()[1:]] == [
        "stacks/Pulumi.live.yaml:14:5: sites[0].zone: 'example.com' is not declared under zones in any stack file "
        "of the project (declared: [not shown])",
        "stacks/Pulumi.live.yaml:4:7: zones.[not shown]: zone names are apex domains such as example.com",
    ]


def key_material_in(**site: Any) -> list[str]:
    return problems_of(raw_config(**site))


@pytest.mark.parametrize("material", [PEM, TOKEN], ids=["PEM", "token"])
def test_key_material_in_a_field_that_is_not_secret_is_refused_unseen(material: str) -> None:
    raw = raw_config()
    raw["zones"]["example.com"]["account_id"] = material
    del raw["zones"]["example.com"]["id"]
    refused = (
        "looks like key material (a PEM block, a token or a URL with credentials); secrets go only in "
        "certificate, private_key and redis url, set with pulumi config set --secret"
    )
    assert f"zones.example.com.account_id: {HIDDEN} {refused}" in problems_of(raw)
    rule = {"name": "api", "match": {"expression": f'http.request.uri.path eq "/{material.strip()}"'}}
    assert f"sites[0].cache.rules[0].match.expression: {HIDDEN} {refused}" in key_material_in(
        cache={"rules": [{**rule, "action": "bypass"}]}
    )


# --- property: whatever field or key of the shipped stack files key material is put in, no output prints it -------

MATERIAL = [PEM, TOKEN, "rediss://:SECRETPW@cache.example.com:6380/0", f"public, max-age=60, {TOKEN}"]
MARKERS = ("MIIE", TOKEN, "SECRETPW", "BEGIN PRIVATE")


def _places(node: object) -> Iterator[tuple[Any, Any]]:
    """Every (container, key) of a parsed stack file's config: text values and mapping keys."""
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, value in list(items):
        if isinstance(value, str) or isinstance(key, str):
            yield node, key
        yield from _places(value)


def mutants(count: int, seed: int) -> list[tuple[str, str]]:
    """``count`` shipped stack files (stack, text), each with key material in one place: a value, or a key."""
    rng = random.Random(seed)
    files = {name: yaml.safe_load((ROOT / "stacks" / f"Pulumi.{name}.yaml").read_text()) for name in ("live", "test")}
    found = []
    for _ in range(count):
        stack = rng.choice(sorted(files))
        data = copy.deepcopy(files[stack])
        container, key = rng.choice(list(_places(data["config"])))
        material = rng.choice(MATERIAL)
        if isinstance(container, dict) and (rng.random() < 0.3 or not isinstance(container[key], str)):
            container[material] = container.pop(key)
        else:
            container[key] = material
        found.append((stack, yaml.safe_dump(data, sort_keys=False)))
    return found


def accepted_mutants() -> list[tuple[str, str]]:
    """The shipped live stack with key material where it plans: the provider token, plain (a warning) or secure."""
    data = yaml.safe_load((ROOT / "stacks" / "Pulumi.live.yaml").read_text())
    found = []
    for material in (PEM, TOKEN):
        for value in (material, {"secure": material}):
            data["config"]["cloudflare:apiToken"] = value
            found.append(("live", yaml.safe_dump(data, sort_keys=False)))
    return found


def shipped_project(directory: Path) -> Path:
    shutil.copytree(ROOT / "stacks", directory / "stacks")
    shutil.copy(ROOT / "Pulumi.yaml", directory / "Pulumi.yaml")
    return directory


def assert_unseen(output: str) -> None:
    assert "Traceback" not in output
    for marker in MARKERS:
        assert marker not in output


@pytest.mark.parametrize(
    "stack,text,expected",
    [(*m, 2) for m in mutants(24, seed=20261202)] + [(*m, 0) for m in accepted_mutants()[::3]],
)
def test_the_plan_and_its_json_never_print_key_material_wherever_it_was_put(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], stack: str, text: str, expected: Any
) -> None:
    """Refused (exit 2) wherever a field is not secret; planned (exit 0) where it is the provider's token."""
    project = shipped_project(tmp_path)
    (project / "stacks" / f"Pulumi.{stack}.yaml").write_text(text)
    for extra in ((), ("--json",)):
        code, out, err = appcdn(capsys, "plan", "--stack", stack, *extra, cwd=project)
        assert code == expected, err
        assert_unseen(out + err)


@pytest.mark.parametrize(
    "stack,text,expected", [(*m, {2}) for m in mutants(2, seed=17)] + [(*m, {0, 1}) for m in accepted_mutants()[1:3]]
)
def test_the_diff_never_prints_key_material_in_any_format(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], stack: str, text: str, expected: Any
) -> None:
    project = shipped_project(tmp_path)
    git = ["git", "-C", str(project), "-c", "user.email=t@example.com", "-c", "user.name=t"]
    subprocess.run([*git, "init", "-q", "-b", "main"], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "base"], check=True)
    (project / "stacks" / f"Pulumi.{stack}.yaml").write_text(text)
    for extra in ((), ("--format", "markdown"), ("--json",)):
        code, out, err = appcdn(capsys, "diff", "--stack", stack, "--base", "main", *extra, cwd=project)
        assert code in expected, err
        assert_unseen(out + err)
