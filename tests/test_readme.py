"""The README and docs/ stay true: their usage examples run, the configuration reference is the models', and no
link between them is dead."""

import re
from typing import Any

import yaml

from tests.conftest import ROOT, compiled, declare, raw_config
from tooling.reference import reference

README = (ROOT / "README.md").read_text()
CONFIGURATION = (ROOT / "docs" / "configuration.md").read_text()
COMPOSING = (ROOT / "docs" / "composing.md").read_text()


def test_the_components_example_runs_under_the_mock_engine() -> None:
    section = COMPOSING.split("## Using the components in your own program", 1)[1]
    [example] = re.findall(r"```python\n(.*?)```", section, re.S)[:1]
    declared = declare(lambda: exec(example, {}))
    assert declared["example-com"].type == "appcdn:index:Zone"
    assert "shop/live/session" in declared["example-com-cache-rules"].inputs["rules"][-1]["description"]
    assert declared["shop-media-bucket"].protect


def test_the_configuration_reference_is_generated_from_the_models() -> None:
    assert reference() in CONFIGURATION, "run: .venv/bin/python -m tooling.reference --write docs/configuration.md"


def test_every_config_key_has_a_description() -> None:
    undocumented = [
        line for line in reference().splitlines() if line.startswith("| `") and line.rstrip().endswith("|  |")
    ]
    assert not undocumented


def _yaml_example(heading: str) -> Any:
    section = CONFIGURATION.split(f"### {heading}\n", 1)[1]
    return yaml.safe_load(re.findall(r"```yaml\n(.*?)```", section, re.S)[0])


def test_the_configuration_examples_plan() -> None:
    """The cache rule, media and app-cache examples, together on one Live site of a Pro zone, pass every check
    (those the stack files' reading adds and those of the safety bypasses after every rule included)."""
    [rule] = _yaml_example("Cache rules")
    media, app = _yaml_example("Media")["media"], _yaml_example("The app's own cache")["app"]
    raw = raw_config(cache={"rules": [rule]}, media=media, app=app)
    raw["sites"][0]["hosts"] = ["www.example.com", "example.com"]
    rules = compiled(raw)["example.com"].cache
    assert any(r.ref == "shop-live-sitemap" for r in rules)


DOCUMENTS = sorted([ROOT / "README.md", *(ROOT / "docs").glob("*.md"), ROOT / "bench" / "README.md"])


def _anchor(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation dropped, spaces to '-'."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def _anchors(document: str) -> set[str]:
    body = re.sub(r"```.*?```", "", document, flags=re.S)
    return {_anchor(m) for m in re.findall(r"^#+ (.+)$", body, re.M)}


def test_the_readme_is_short_and_points_into_docs() -> None:
    assert len(README.splitlines()) <= 200
    for name in ("configuration", "operations", "composing", "architecture", "decisions", "development"):
        assert f"(docs/{name}.md)" in README


def test_no_link_between_the_documents_is_dead() -> None:
    dead = []
    for document in DOCUMENTS:
        text = document.read_text()
        for target in re.findall(r"\]\(([^)\s]+)\)", re.sub(r"```.*?```", "", text, flags=re.S)):
            if re.match(r"[a-z]+:", target):
                continue  # a web address: not checked offline
            path, _, anchor = target.partition("#")
            linked = (document.parent / path).resolve() if path else document
            if not linked.exists():
                dead.append(f"{document.relative_to(ROOT)}: {target} (no such file)")
            elif anchor and linked.suffix == ".md" and anchor not in _anchors(linked.read_text()):
                dead.append(f"{document.relative_to(ROOT)}: {target} (no such heading)")
    assert not dead
