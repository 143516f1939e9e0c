"""The appcdn components as a Pulumi component package, for programs in any Pulumi language.

``PulumiPlugin.yaml`` (runtime python) in ``provider/`` hosts ``COMPONENTS`` with the SDK's component provider
host; ``appcdn schema`` prints the package schema the SDK's analyzer infers from the components' ``TypedDict``
args and annotated outputs (``pulumi.provider.experimental``), the same schema the host serves.
"""

from __future__ import annotations

import json
from typing import Any

import pulumi

from appcdn.components.app_hosts import AppHosts
from appcdn.components.azure_media import AzureMedia
from appcdn.components.cache_store import CacheStore
from appcdn.components.certificates import SiteCertificates
from appcdn.components.purge_token import PurgeToken
from appcdn.components.s3_headers_batch import S3HeadersBatch
from appcdn.components.s3_media import S3Media
from appcdn.components.zone import Zone

PACKAGE = "appcdn"
VERSION = "0.1.0"
"""The package version (pyproject.toml's)."""
COMPONENTS: list[type[pulumi.ComponentResource]] = [
    AppHosts,
    AzureMedia,
    CacheStore,
    PurgeToken,
    S3HeadersBatch,
    S3Media,
    SiteCertificates,
    Zone,
]


def package_schema() -> dict[str, Any]:
    """The package schema, as ``pulumi package get-schema`` would print it."""
    from pulumi.provider.experimental.analyzer import Analyzer
    from pulumi.provider.experimental.schema import generate_schema

    analyzed = Analyzer(PACKAGE).analyze(COMPONENTS)
    spec = generate_schema(
        PACKAGE,
        VERSION,
        None,
        analyzed["component_definitions"],
        analyzed["type_definitions"],
        sorted(analyzed["dependencies"], key=lambda d: d.name),
    )
    schema: dict[str, Any] = spec.to_json()
    return schema


def main() -> None:
    print(json.dumps(package_schema(), indent=2, sort_keys=True))
