"""``AzureMedia``: a site's media on Azure Blob Storage: a public-read container only for public media."""

from collections.abc import Mapping, Sequence
from typing import NotRequired, TypedDict

import pulumi
from pulumi_azure_native import resources, storage

from appcdn import defaults
from appcdn.rules.media import azure_endpoint_host, cors_origins


class AzureMediaArgs(TypedDict):
    resource_group: NotRequired[str | None]
    """Existing resource group; default: create one."""
    location: str
    """Azure location of the account (and of a created group)."""
    account_name: str
    """Storage account name (global: 3-24 lower-case letters and digits)."""
    public: bool
    """Whether public media exists: then a ``public`` container allows anonymous reads of blobs (not listing)."""
    cors_hosts: Sequence[str]
    """Hosts whose pages may fetch media from the browser (HTTPS origins)."""
    soft_delete_days: NotRequired[int | None]
    """Blob and container soft delete and versioning (Live); None: off."""
    tags: Mapping[str, str]
    """Tags of the account and a created group."""
    protect: NotRequired[bool]
    """Protect the account, containers and a created group from ``destroy`` and renames, and retain them
    (Live media)."""


class AzureMedia(pulumi.ComponentResource):
    """StorageV2, HTTPS only, TLS 1.2 minimum; private media in the ``private`` container."""

    account: storage.StorageAccount
    """The storage account."""
    account_id: pulumi.Output[str]
    """The storage account's resource id."""
    account_name: pulumi.Output[str]
    """The storage account's name."""
    resource_group_name: pulumi.Output[str]
    """The resource group holding the account."""
    container_names: list[str]
    """The containers: ``private`` and, with public media, ``public``."""
    endpoint_host: pulumi.Output[str]
    """The account's blob host (``<account>.blob.core.windows.net``), the origin of a media domain."""

    def __init__(self, name: str, args: AzureMediaArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("appcdn:index:AzureMedia", name, {}, opts)
        protect = args.get("protect", False)
        keep = pulumi.ResourceOptions(parent=self, protect=protect, retain_on_delete=protect)
        child = pulumi.ResourceOptions(parent=self)
        group = args.get("resource_group")
        if group:
            group_name = pulumi.Output.from_input(group)
        else:
            group_name = resources.ResourceGroup(
                f"{name}-group", location=args["location"], tags=dict(args["tags"]), opts=keep
            ).name
        account = storage.StorageAccount(
            f"{name}-account",
            account_name=args["account_name"],
            resource_group_name=group_name,
            location=args["location"],
            kind="StorageV2",
            sku={"name": "Standard_LRS"},
            enable_https_traffic_only=True,
            minimum_tls_version=defaults.AZURE_MIN_TLS,
            allow_blob_public_access=args["public"],
            allow_shared_key_access=True,
            tags=dict(args["tags"]),
            opts=keep,
        )
        self.account = account
        self.account_id = account.id
        self.account_name = account.name
        self.resource_group_name = group_name
        self.endpoint_host = account.name.apply(azure_endpoint_host)

        soft_delete = args.get("soft_delete_days")
        retention: storage.DeleteRetentionPolicyArgsDict = (
            {"enabled": True, "days": soft_delete} if soft_delete else {"enabled": False}
        )
        storage.BlobServiceProperties(
            f"{name}-blob-service",
            account_name=account.name,
            resource_group_name=group_name,
            blob_services_name="default",
            is_versioning_enabled=bool(soft_delete),
            delete_retention_policy=retention,
            container_delete_retention_policy=retention,
            cors={
                "cors_rules": [
                    {
                        "allowed_methods": defaults.CORS_METHODS,
                        "allowed_origins": cors_origins(args["cors_hosts"]),
                        "allowed_headers": ["*"],
                        "exposed_headers": ["*"],
                        "max_age_in_seconds": defaults.CORS_MAX_AGE,
                    }
                ]
            },
            opts=child,
        )
        containers = [(defaults.AZURE_PRIVATE_CONTAINER, storage.PublicAccess.NONE)]
        if args["public"]:
            containers.append((defaults.AZURE_PUBLIC_CONTAINER, storage.PublicAccess.BLOB))
        for container, access in containers:
            storage.BlobContainer(
                f"{name}-{container}",
                account_name=account.name,
                resource_group_name=group_name,
                container_name=container,
                public_access=access,
                opts=keep,
            )
        self.container_names = [c for c, _ in containers]
        self.register_outputs(
            {
                "account_id": self.account_id,
                "account_name": self.account_name,
                "resource_group_name": self.resource_group_name,
                "container_names": self.container_names,
                "endpoint_host": self.endpoint_host,
            }
        )
