"""The README's usage example runs, and declares what it says."""

import re
from pathlib import Path

from appcdn.offline import run_under_mocks

README = Path(__file__).resolve().parent.parent / "README.md"


def test_the_components_example_runs_under_the_mock_engine():
    section = README.read_text().split("### Using the components in your own program", 1)[1]
    [example] = re.findall(r"```python\n(.*?)```", section, re.S)[:1]
    declared = {r.name: r for r in run_under_mocks(lambda: exec(example, {}), "mine", "dev", {}, [])}
    assert declared["example-com"].type == "appcdn:index:Zone"
    assert "shop/live/session" in declared["example-com-cache-rules"].inputs["rules"][-1]["description"]
    assert declared["shop-media-bucket"].protect
