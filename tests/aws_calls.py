"""Every AWS operation the project's own code makes during the tests, recorded through botocore's event system:
each client botocore creates gets a ``before-call`` handler that records ``service:Operation`` when the code
that made the call is the project's (``appcdn/``, ``components/``), not a test's own setup. The calls reach real
servers (moto's S3 server, the loopback S3 Control); ``tests/test_permissions.py`` checks that the IAM policy of
``appcdn permissions`` allows each of them. ``tests/conftest.py`` registers this module as a plugin."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import botocore.session

PROJECT = Path(__file__).resolve().parent.parent
OURS = (str(PROJECT / "appcdn") + "/", str(PROJECT / "components") + "/")
LIBRARIES = ("/botocore/", "/boto3/", "/s3transfer/", str(Path(__file__)))
RECORDED: set[str] = set()
"""``service:Operation`` (botocore's names, e.g. ``s3:CopyObject``, ``s3control:CreateJob``)."""


def _called_by_project() -> bool:
    """Whether the innermost caller outside the AWS SDK is the project's code."""
    frame = sys._getframe(2)
    while frame is not None:
        filename = frame.f_code.co_filename
        if not any(part in filename for part in LIBRARIES):
            return filename.startswith(OURS)
        frame = frame.f_back  # type: ignore[assignment]
    return False


def _record(model: Any, **_: Any) -> None:
    if _called_by_project():
        RECORDED.add(f"{model.service_model.service_name}:{model.name}")


def pytest_configure() -> None:
    create_client = botocore.session.Session.create_client

    def recording(self: botocore.session.Session, *args: Any, **kwargs: Any) -> Any:
        client = create_client(self, *args, **kwargs)
        client.meta.events.register("before-call", _record)
        return client

    botocore.session.Session.create_client = recording
