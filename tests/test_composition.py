"""Composing appcdn into other stacks: a Python program of its own planned offline like appcdn's, the stack
outputs other stacks read through StackReference, and a JSON Schema of the stack file for editors."""

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from appcdn.config.file_schema import SCHEMA_FILE, stack_file_schema
from tests.conftest import ROOT, appcdn, raw_config

EXAMPLE = ROOT / "examples" / "python"


def test_a_program_of_its_own_composing_the_components_is_planned_offline(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = appcdn(capsys, "plan", "--stack", "dev", cwd=EXAMPLE)
    assert code == 0, err
    assert out.splitlines()[0] == (
        "Program docs-site (__main__.py), stack dev (config from Pulumi.dev.yaml), declares 13 resources:"
    )
    assert "  appcdn:index:S3Media  docs-media" in out
    assert "    aws:s3/bucket:Bucket  docs-media-bucket  [protect, retain on delete]" in out
    assert "  aws:s3/bucketObjectv2:BucketObjectv2  brochure" in out  # its own resources, beside the components
    assert "  brochure_cache_control: public, max-age=86400" in out  # appcdn's header rules, first match
    assert "  shop_app_env: [unknown]" in out  # another stack's outputs are not known offline


def test_its_json_has_resources_and_outputs(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = appcdn(capsys, "plan", "--stack", "dev", "--json", cwd=EXAMPLE)
    plan = json.loads(out)
    assert code == 0 and plan["program"] == "__main__.py"
    [record] = [r for r in plan["resources"] if r["name"] == "docs-site"]
    assert record["inputs"]["zoneId"] == "023e105f4ecef8ad9ca31a8372d0c353"  # from the stack file's config
    assert plan["outputs"]["media_bucket"] == "docs-media-bucket"


def test_a_program_without_a_stack_file_runs_without_config_and_its_errors_are_reported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "Pulumi.yaml").write_text("name: tiny\nruntime: python\nmain: app/\n")
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "__main__.py").write_text("import pulumi\npulumi.export('secret', pulumi.Output.secret('s'))\n")
    code, out, _ = appcdn(capsys, "plan", "--stack", "dev", cwd=tmp_path)
    assert code == 0 and "stack dev (no stack file)" in out and "  secret: [secret]" in out
    (tmp_path / "app" / "__main__.py").write_text("import pulumi\npulumi.Config().require('missing')\n")
    code, _, err = appcdn(capsys, "plan", "--stack", "dev", cwd=tmp_path)
    assert code == 2 and err.startswith("appcdn plan: app/__main__.py failed: ConfigMissingError")


@pytest.mark.parametrize(
    "pulumi_yaml,message",
    [
        ("name: x\nruntime: nodejs\n", "is a nodejs program; only Python programs run offline"),
        (None, "holds no Pulumi.yaml"),
    ],
)
def test_what_cannot_be_planned_offline_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], pulumi_yaml: str | None, message: str
) -> None:
    if pulumi_yaml:
        (tmp_path / "Pulumi.yaml").write_text(pulumi_yaml)
    code, _, err = appcdn(capsys, "plan", "--stack", "dev", cwd=tmp_path)
    assert code == 2 and message in err


def test_the_stack_outputs_tell_other_stacks_where_each_site_lives(capsys: pytest.CaptureFixture[str]) -> None:
    _code, out, _ = appcdn(capsys, "plan", "--stack", "live", "--json")
    sites = json.loads(out)["outputs"]["sites"]
    shop, blog = sites["shop"], sites["blog"]
    assert shop["zone_id"] == blog["zone_id"] == "023e105f4ecef8ad9ca31a8372d0c353"
    assert shop["hosts"] == ["www.example.com", "example.com"]
    assert shop["media"] == {
        "backend": "aws",
        "bucket": "shop-live-media-bucket",
        "region": "eu-central-1",
        "endpoint_host": "shop-live-media-bucket.s3.eu-central-1.amazonaws.com",
        "host": "media.example.com",
        "url": "https://media.example.com/",
    }
    assert (blog["media"]["account"], blog["media"]["containers"], blog["media"]["host"]) == (
        "exampleblogmedia",
        ["private", "public"],
        "files.example.com",
    )
    assert shop["app_env"]["CACHE_URL"] == "[secret]"  # secrets stay secret
    assert shop["app_env"]["CMS_CACHE_DURATIONS"] == '{"content": 60, "menus": 3600, "permissions": 3600}'
    assert "  sites.shop.media.bucket: shop-live-media-bucket" in appcdn(capsys, "plan", "--stack", "live")[1]


def test_the_readme_documents_every_output(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = appcdn(capsys, "plan", "--stack", "live", "--json")
    outputs = json.loads(out)["outputs"]
    section = (
        (ROOT / "docs" / "composing.md")
        .read_text()
        .split("## Stack outputs for other stacks", 1)[1]
        .split("\n## ", 1)[0]
    )
    sites = outputs["sites"].values()
    assert all(f"`{key}" in section for key in outputs)
    assert all(f"`sites.<name>.{key}`" in section for site in sites for key in site)
    assert all(f"`{key}`" in section for site in sites for key in site.get("media", {}))


def test_config_schema_is_the_shipped_one_and_the_stack_files_point_to_it(capsys: pytest.CaptureFixture[str]) -> None:
    from appcdn.commands.cli import main

    assert main(["config-schema"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed == stack_file_schema() == json.loads((ROOT / "stacks" / SCHEMA_FILE).read_text()), (
        "run: .venv/bin/appcdn config-schema > stacks/appcdn-stack.schema.json"
    )
    for stack in ("live", "test"):
        text = (ROOT / "stacks" / f"Pulumi.{stack}.yaml").read_text()
        assert text.splitlines()[0] == f"# yaml-language-server: $schema=./{SCHEMA_FILE}"
        jsonschema.validate(yaml.safe_load(text), printed)


@pytest.mark.parametrize(
    "change,error",
    [
        (lambda c: c.update({"appcdn:colour": "blue"}), "should not be valid"),
        (lambda c: c["appcdn:sites"][0].update({"hostz": []}), "'hostz' was unexpected"),
        (lambda c: c["appcdn:zones"]["example.com"].update({"plan": "gold"}), "'gold' is not one of"),
        (lambda c: c.pop("appcdn:sites"), "'appcdn:sites' is a required property"),
    ],
)
def test_the_schema_catches_what_the_config_would_refuse(
    change: Callable[[dict[str, Any]], object], error: str
) -> None:
    stack = {"config": {f"appcdn:{k}": v for k, v in raw_config().items()}}
    change(stack["config"])
    with pytest.raises(jsonschema.ValidationError, match=error):
        jsonschema.validate(stack, stack_file_schema())


def test_a_secret_may_be_a_secure_value_and_other_namespaces_are_free() -> None:
    stack = {
        "config": {
            "cloudflare:apiToken": {"secure": "v1:x"},
            **{
                f"appcdn:{k}": v
                for k, v in raw_config(
                    app={"cache": {"backend": "redis", "redis": {"url": {"secure": "v1:y"}}}}
                ).items()
            },
        }
    }
    jsonschema.validate(stack, stack_file_schema())
