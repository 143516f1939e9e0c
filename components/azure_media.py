"""``AzureMedia``: a site's media on Azure Blob Storage: a public-read container only for public media."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import NotRequired, TypedDict

import pulumi
from pulumi_azure_native import resources, storage

from appcdn.policy.media import AZURE_PRIVATE_CONTAINER, AZURE_PUBLIC_CONTAINER, azure_endpoint_host, cors_origins


class AzureMediaArgs(TypedDict):
    resource_group: NotRequired[str | None]
    """Existing resource group; default: create one."""
    location: str
    account_name: str
    """Storage account name (global: 3-24 lower-case letters and digits)."""
    public: bool
    """Whether public media exists: then a ``public`` container allows anonymous reads of blobs (not listing)."""
    cors_hosts: Sequence[str]
    soft_delete_days: NotRequired[int | None]
    """Blob and container soft delete and versioning (Live); None: off."""
    tags: Mapping[str, str]
    protect: bool
    """Protect the account and containers from ``destroy`` and renames, and retain them (Live media)."""


class AzureMedia(pulumi.ComponentResource):
    """StorageV2, HTTPS only, TLS 1.2 minimum; private media in the ``private`` container."""

    account_name: pulumi.Output[str]
    endpoint_host: pulumi.Output[str]

    def __init__(self, name: str, args: AzureMediaArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("appcdn:index:AzureMedia", name, {}, opts)
        keep = pulumi.ResourceOptions(parent=self, protect=args["protect"], retain_on_delete=args["protect"])
        child = pulumi.ResourceOptions(parent=self)
        if args.get("resource_group"):
            group_name = pulumi.Output.from_input(args["resource_group"])
        else:
            group_name = resources.ResourceGroup(f"{name}-group", location=args["location"], tags=dict(args["tags"]),
                                                 opts=keep).name
        account = storage.StorageAccount(
            f"{name}-account", account_name=args["account_name"], resource_group_name=group_name,
            location=args["location"], kind="StorageV2", sku={"name": "Standard_LRS"},
            enable_https_traffic_only=True, minimum_tls_version="TLS1_2", allow_blob_public_access=args["public"],
            allow_shared_key_access=True, tags=dict(args["tags"]), opts=keep)
        self.account_name = account.name
        self.endpoint_host = account.name.apply(azure_endpoint_host)

        soft_delete = args.get("soft_delete_days")
        retention = {"enabled": True, "days": soft_delete} if soft_delete else {"enabled": False}
        storage.BlobServiceProperties(
            f"{name}-blob-service", account_name=account.name, resource_group_name=group_name,
            blob_services_name="default", is_versioning_enabled=bool(soft_delete),
            delete_retention_policy=retention, container_delete_retention_policy=retention,
            cors={"cors_rules": [{"allowed_methods": ["GET", "HEAD"], "allowed_origins": cors_origins(args["cors_hosts"]),
                                  "allowed_headers": ["*"], "exposed_headers": ["*"], "max_age_in_seconds": 3600}]},
            opts=child)
        containers = [(AZURE_PRIVATE_CONTAINER, "None")] + ([(AZURE_PUBLIC_CONTAINER, "Blob")] if args["public"] else [])
        for container, access in containers:
            storage.BlobContainer(f"{name}-{container}", account_name=account.name, resource_group_name=group_name,
                                  container_name=container, public_access=access, opts=keep)
        self.register_outputs({"account_name": self.account_name, "endpoint_host": self.endpoint_host})
