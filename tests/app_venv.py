"""The Django app's own virtualenv: django-appcdn built as a wheel once per session and installed, with its
extras, into a fresh virtualenv that has no Pulumi and no appcdn. The Django end-to-end tests run their Django
processes with its Python.

uv builds and installs (the same uv that ``make`` uses); the other packages are pinned to the versions this test
environment has from uv.lock, so uv takes them from its cache.

``tests/conftest.py`` registers this module as a plugin, so tests ask for ``app_python`` by name.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
APP_PACKAGE = ROOT / "django-appcdn"
ALONGSIDE = ("redis", "psycopg[binary]", "django-cms", "djangocms-versioning", "django-filer", "easy-thumbnails")
"""What the test apps use beyond django-appcdn and its extras: their cache and database clients, django CMS with
its publishing path, django-filer and its thumbnails."""


def uv() -> str:
    """The uv ``make`` fetched into .tools, else the one on PATH."""
    pinned = ROOT / ".tools" / "bin" / "uv"
    found = str(pinned) if pinned.exists() else shutil.which("uv")
    if found is None:
        raise RuntimeError("uv not found: run `make lint` once (it fetches the pinned uv into .tools)")
    return found


def _run(*command: str) -> str:
    done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stderr[-3000:]}")
    return done.stdout


def pinned(requirement: str) -> str:
    """``requirement`` at the version installed here (``psycopg[binary]`` → ``psycopg[binary]==3.2.10``)."""
    return f"{requirement}=={version(requirement.split('[')[0])}"


@pytest.fixture(scope="session")
def app_wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """django-appcdn's wheel, built from this repository."""
    out = tmp_path_factory.mktemp("wheel")
    _run(uv(), "build", "--wheel", "--quiet", "--out-dir", str(out), str(APP_PACKAGE))
    [wheel] = out.glob("django_appcdn-*.whl")
    return wheel


@pytest.fixture(scope="session")
def app_python(app_wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The Python of a fresh virtualenv holding the wheel with its extras [s3,azure], Django and the clients."""
    venv = tmp_path_factory.mktemp("app-venv") / "venv"
    _run(uv(), "venv", "--quiet", "--python", sys.executable, "--no-python-downloads", str(venv))
    python = venv / "bin" / "python"
    extras = ("django", "django-storages", "boto3", "azure-storage-blob", "cloudflare")
    _run(
        uv(),
        "pip",
        "install",
        "--quiet",
        "--python",
        str(python),
        f"django-appcdn[s3,azure,purge] @ {app_wheel.as_uri()}",
        *(pinned(r) for r in (*extras, *ALONGSIDE)),
    )
    return python


def app_process_env(app_python: Path, settings_module: str, env: dict[str, str]) -> dict[str, str]:
    """The environment of a Django process of the app's virtualenv: the repository on the path only for the
    test project's settings (``tests.django_…``), never for appcdn_django, which comes from the wheel."""
    return {
        "PATH": f"{app_python.parent}{os.pathsep}{os.environ['PATH']}",
        "PYTHONPATH": str(ROOT),
        "DJANGO_SETTINGS_MODULE": settings_module,
        **env,
    }
