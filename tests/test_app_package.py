"""django-appcdn, the app's side as its own distribution: built as a wheel, installed into a fresh virtualenv
with no Pulumi, small; and appcdn (the infrastructure package) installs without Django."""

from __future__ import annotations

import subprocess
import tomllib
import zipfile
from pathlib import Path
from typing import Any

from tests.conftest import ROOT

MAX_INSTALLED_BYTES = 5 * 1024 * 1024


def test_the_wheel_holds_the_app_package_alone(app_wheel: Path) -> None:
    names = zipfile.ZipFile(app_wheel).namelist()
    assert {name.split("/")[0] for name in names} == {"appcdn_django", app_wheel.name.split("-py3")[0] + ".dist-info"}
    assert "appcdn_django/settings.py" in names and "appcdn_django/storages.py" in names


def test_it_installs_into_a_virtualenv_without_pulumi_and_imports(app_python: Path) -> None:
    probe = (
        "import importlib.util, appcdn_django.settings, appcdn_django.storages; "
        "print(importlib.util.find_spec('pulumi'), importlib.util.find_spec('appcdn'), appcdn_django.__version__)"
    )
    done = subprocess.run([str(app_python), "-I", "-c", probe], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["None", "None", "0.1.0"]


def test_installed_it_is_under_5_mb_without_its_extras_dependencies(app_python: Path) -> None:
    site_packages = next((app_python.parent.parent / "lib").glob("python3*/site-packages"))
    [dist_info] = site_packages.glob("django_appcdn-*.dist-info")
    files = [line.split(",")[0] for line in (dist_info / "RECORD").read_text().splitlines() if line]
    installed = sum((site_packages / name).stat().st_size for name in files if (site_packages / name).exists())
    assert 0 < installed < MAX_INSTALLED_BYTES, installed


def _closure(lock: dict[str, Any], name: str, extras: tuple[str, ...] = ()) -> set[str]:
    """Every package ``name`` (with ``extras``) installs, from uv.lock: its dependencies, not its groups."""
    packages = {p["name"]: p for p in lock["package"]}
    seen: set[str] = set()
    todo = [(name, extras)]
    while todo:
        current, wanted = todo.pop()
        package = packages[current]
        deps = list(package.get("dependencies", []))
        for extra in wanted:
            deps += package.get("optional-dependencies", {})[extra]
        for dep in deps:
            if dep["name"] not in seen or dep.get("extra"):
                seen.add(dep["name"])
                todo.append((dep["name"], tuple(dep.get("extra", ()))))
    return seen


def test_appcdn_installs_without_django_and_the_app_package_without_pulumi() -> None:
    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    infrastructure = _closure(lock, "appcdn")
    assert "django-appcdn" in infrastructure
    assert not {"django", "django-storages"} & infrastructure
    app = _closure(lock, "django-appcdn", ("s3", "azure"))
    assert {"django", "django-storages", "boto3", "azure-storage-blob"} <= app
    assert not {p for p in app if p.startswith("pulumi")}
