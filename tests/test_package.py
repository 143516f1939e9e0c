"""The components as a Pulumi component package: its schema, inferred by the SDK's analyzer, holds every
component with every input and output; the provider folder hosts them; the YAML example uses them as typed."""

import inspect
import re

import pulumi
import pytest
import yaml

import appcdn.components
from appcdn.program.package_schema import COMPONENTS, package_schema
from tests.conftest import ROOT

SCHEMA = package_schema()


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def inputs_of(component: type) -> set[str]:
    args = inspect.get_annotations(vars(component)["__init__"])["args"]
    return {camel(k) for k in args.__annotations__}


def outputs_of(component: type) -> set[str]:
    return {camel(k) for k in inspect.get_annotations(component) if not k.startswith("_")}


def every_component() -> set[type]:
    """Every ComponentResource the components folder defines."""
    import importlib
    import pkgutil

    found = set()
    for module in pkgutil.iter_modules(appcdn.components.__path__):
        loaded = importlib.import_module(f"appcdn.components.{module.name}")
        found |= {
            v
            for v in vars(loaded).values()
            if isinstance(v, type) and issubclass(v, pulumi.ComponentResource) and v.__module__ == loaded.__name__
        }
    return found


def test_the_package_hosts_every_component() -> None:
    assert set(COMPONENTS) == every_component()
    assert set(SCHEMA["resources"]) == {f"appcdn:index:{c.__name__}" for c in COMPONENTS}
    assert {d["name"] for d in SCHEMA["dependencies"]} == {"aws", "azure-native", "cloudflare"}


@pytest.mark.parametrize("component", COMPONENTS, ids=lambda c: c.__name__)
def test_every_input_and_output_is_in_the_schema_with_a_description(component: type[pulumi.ComponentResource]) -> None:
    spec = SCHEMA["resources"][f"appcdn:index:{component.__name__}"]
    assert spec["isComponent"] and spec["description"]
    assert set(spec["inputProperties"]) == inputs_of(component)
    assert set(spec["properties"]) == outputs_of(component)
    for name, prop in {**spec["inputProperties"], **spec["properties"]}.items():
        assert prop.get("description"), name
        assert "$ref" not in prop or not prop["$ref"].endswith("/Any"), name  # nothing untyped


def test_nested_rule_types_and_enums_are_typed_in_the_schema() -> None:
    types = SCHEMA["types"]
    assert [(e["name"], e["value"]) for e in types["appcdn:index:Cloud"]["enum"]] == [
        ("AWS", "aws"),
        ("AZURE", "azure"),
    ]
    edge = types["appcdn:index:EdgeTtl"]["properties"]
    assert set(edge) == {"mode", "default", "statusCodeTtls"} and types["appcdn:index:EdgeTtl"]["required"] == ["mode"]
    rules = SCHEMA["resources"]["appcdn:index:Zone"]["inputProperties"]["cacheRules"]
    assert rules["items"]["$ref"] == "#/types/appcdn:index:PhaseRule"


def test_appcdn_schema_prints_it(capsys: pytest.CaptureFixture[str]) -> None:
    from appcdn.commands.cli import main

    assert main(["schema"]) == 0
    assert yaml.safe_load(capsys.readouterr().out) == SCHEMA


def test_the_provider_folder_is_a_python_component_package() -> None:
    plugin = yaml.safe_load((ROOT / "provider" / "PulumiPlugin.yaml").read_text())
    assert plugin["runtime"]["name"] == "python"
    host = (ROOT / "provider" / "__main__.py").read_text()
    assert "component_provider_host(COMPONENTS, PACKAGE" in host
    assert "-e .." in (ROOT / "provider" / "requirements.txt").read_text()


def test_the_yaml_example_uses_the_components_as_the_schema_types_them() -> None:
    program = yaml.safe_load((ROOT / "examples" / "yaml" / "Pulumi.yaml").read_text())
    assert program["runtime"] == "yaml" and program["packages"] == {"appcdn": "../../provider"}
    resources = program["resources"]
    for name, resource in resources.items():
        spec = SCHEMA["resources"][resource["type"]]
        assert set(resource["properties"]) <= set(spec["inputProperties"]), name
        assert set(spec.get("requiredInputs", [])) <= set(resource["properties"]), name
    for value in [
        *program["outputs"].values(),
        *(str(p) for r in resources.values() for p in r["properties"].values()),
    ]:
        for ref, output in re.findall(r"\$\{(\w+)\.(\w+)\}", str(value)):
            assert output in SCHEMA["resources"][resources[ref]["type"]]["properties"], (ref, output)
