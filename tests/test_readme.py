"""The README stays true: its usage example runs, and its configuration reference is the models'."""

import re

import yaml

from appcdn.reference import reference
from tests.conftest import ROOT, compiled, declare, raw_config

README = (ROOT / "README.md").read_text()


def test_the_components_example_runs_under_the_mock_engine():
    section = README.split("### Using the components in your own program", 1)[1]
    [example] = re.findall(r"```python\n(.*?)```", section, re.S)[:1]
    declared = declare(lambda: exec(example, {}))
    assert declared["example-com"].type == "appcdn:index:Zone"
    assert "shop/live/session" in declared["example-com-cache-rules"].inputs["rules"][-1]["description"]
    assert declared["shop-media-bucket"].protect


def test_the_configuration_reference_is_generated_from_the_models():
    assert reference() in README, "run: .venv/bin/python -m appcdn.reference --write README.md"


def test_every_config_key_has_a_description():
    undocumented = [line for line in reference().splitlines()
                    if line.startswith("| `") and line.rstrip().endswith("|  |")]
    assert not undocumented


def _yaml_example(heading: str) -> object:
    section = README.split(f"### {heading}\n", 1)[1]
    return yaml.safe_load(re.findall(r"```yaml\n(.*?)```", section, re.S)[0])


def test_the_configuration_examples_plan():
    """The cache rule, media and app-cache examples, together on one Live site of a Pro zone, pass every check
    (those the stack files' reading adds and those of the safety bypasses after every rule included)."""
    [rule] = _yaml_example("Cache rules")
    media, app = _yaml_example("Media")["media"], _yaml_example("The app's own cache")["app"]
    raw = raw_config(cache={"rules": [rule]}, media=media, app=app)
    raw["sites"][0]["hosts"] = ["www.example.com", "example.com"]
    rules = compiled(raw)["example.com"].cache
    assert any(r.ref == "shop-live-sitemap" for r in rules)
