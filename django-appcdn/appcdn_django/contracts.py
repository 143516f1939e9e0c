"""The versioned contracts between what the stack exports and what this package reads.

Each export names its contract's version and the release of this package that reads it
(``APPCDN_READER``, e.g. ``django-appcdn>=0.1.0``), so an app whose django-appcdn is older than the stack is
refused at start-up with the release to install, not run on settings it half understands.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from appcdn_django import __version__

READER_KEY = "APPCDN_READER"
"""The export's key naming the django-appcdn release that reads it."""


@dataclass(frozen=True)
class Contract:
    what: str
    """What the stack exports, as messages name it."""
    version_key: str
    version: str
    """The version this package reads."""
    since: str
    """The first django-appcdn release that reads this version."""
    required: bool
    """Whether an export must name its version (else one without is taken for the first)."""

    @property
    def reader(self) -> str:
        return f"django-appcdn>={self.since}"

    def exported(self) -> dict[str, str]:
        """The keys every export of this contract carries (the stack side writes them)."""
        return {self.version_key: self.version, READER_KEY: self.reader}

    def refusal(self, exported: Mapping[str, object]) -> str | None:
        """Why this package cannot read ``exported``; None when it can."""
        version = exported.get(self.version_key, None if self.required else "1")
        if version == self.version:
            return None
        reader = exported.get(READER_KEY)
        who = f"read by {reader}" if isinstance(reader, str) else "read by another django-appcdn release"
        return (
            f"the stack exports {self.what} version {version} ({who}); this is django-appcdn {__version__}, "
            f"which reads version {self.version}: "
            + (f"pip install '{reader}'" if isinstance(reader, str) else "install the release of the stack's appcdn")
        )


APP_ENV = Contract("app environment", "APPCDN_APP_ENV_VERSION", "1", since="0.1.0", required=False)
"""``sites.<name>.app_env``, read by ``appcdn_django.settings``."""
MEDIA_SETTINGS = Contract("media settings", "APPCDN_MEDIA_VERSION", "1", since="0.1.0", required=True)
"""``sites.<name>.django``, read by ``appcdn_django.media``."""
