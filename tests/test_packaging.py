"""The components are installed under the project's own name, and nothing generic reaches a user's environment."""

import tomllib

import appcdn.components.zone
from tests.conftest import ROOT


def test_components_are_the_top_level_folder_installed_as_appcdn_components() -> None:
    assert appcdn.components.zone.__file__.endswith("components/zone.py")
    assert (ROOT / "appcdn" / "components").resolve() == (ROOT / "components").resolve()


def test_no_generic_top_level_package_is_installed() -> None:
    packages = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    assert all(p == "appcdn" or p.startswith("appcdn.") for p in packages)
    assert "appcdn.components" in packages
