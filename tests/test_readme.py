"""The README stays true: its usage example runs, and its configuration reference is the models'."""

import re

from appcdn.reference import reference
from tests.conftest import ROOT, declare

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
