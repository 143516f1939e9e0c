"""The application's own caching: the cache store every container shares, and django CMS cache durations.

Containers run in parallel, so the app's cache must be shared: Django's database cache (the default, nothing
to provision) or Redis. Local memory and local files are refused.
https://docs.djangoproject.com/en/stable/topics/cache/#local-memory-caching
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from pydantic import Field, SecretStr

from appcdn import defaults
from appcdn.config.fields import AwsRegion, AzureLocation, ResourceGroupName, SecurityGroupId, Strict, SubnetId
from appcdn.config.messages import SecretTest, may_be_secret
from appcdn.config.problems import Problem


class RedisStore(Strict):
    """A Redis cache: managed on the site's cloud, or an external one given by URL."""

    managed: Literal["aws", "azure"] | None = Field(
        default=None, description="aws: ElastiCache Serverless (Valkey); azure: Azure Cache for Redis; TLS and auth"
    )
    url: SecretStr | None = Field(
        default=None, description="external: rediss://:password@host:port/0, set with --secret"
    )
    region: AwsRegion = Field(default=defaults.AWS_REGION, description="aws: region")
    location: AzureLocation = Field(default=defaults.AZURE_LOCATION, description="azure: location")
    resource_group: ResourceGroupName | None = Field(
        default=None, description="azure: existing group; default: create one"
    )
    subnet_ids: list[SubnetId] | None = Field(
        default=None,
        description="aws (required): subnets of one VPC, in at least two availability zones, where the cache's "
        "endpoints are placed; the app must run in (or be routed to) that VPC",
    )
    security_group_ids: list[SecurityGroupId] | None = Field(
        default=None,
        description="aws (required): security groups of the cache's endpoints; they must admit TCP 6379 "
        "(and 6380 for reads from replicas) from the app",
    )


class CacheStore(Strict):
    """Where the app's Django cache lives (``CACHES['default']``, exported as ``CACHE_URL``)."""

    backend: str = Field(default=defaults.CACHE_BACKEND, description="database | redis")
    table: str = Field(
        default=defaults.CACHE_TABLE,
        pattern=r"^[a-z_][a-z0-9_]{0,62}$",
        description="database: the cache table (manage.py createcachetable)",
    )
    redis: RedisStore | None = Field(default=None, description="redis: managed or url")


class CmsCacheDurations(Strict):
    """django CMS ``CMS_CACHE_DURATIONS``, in seconds; 0 turns that cache off."""

    content: int = Field(ge=0, le=86400, description="placeholder content")
    menus: int = Field(ge=0, le=86400, description="menus")
    permissions: int = Field(ge=0, le=86400, description="permissions")


class AppConfig(Strict):
    """The app's own caching on this stage."""

    cache: CacheStore = Field(default=CacheStore(), description="the shared cache store")
    cms_cache_durations: CmsCacheDurations | None = Field(
        default=None, description="default: Test content 0, menus 0, permissions 0; Live 60, 3600, 3600"
    )
    purge_token: bool = Field(
        default=True,
        description="on Live, declare a Cloudflare API token that can only purge the site's zone, exported (secret) "
        "in sites.<name>.app_env for purge on change; false: the app brings its own CLOUDFLARE_API_TOKEN",
    )


def app_problems(path: str, app: AppConfig, secret: SecretTest) -> Iterable[Problem]:
    """A shared store only; a Redis URL carries a password, so it must be a Pulumi secret, on its own: ``secret``
    says whether the value at a path was given as one (exactly, when the stack file was read offline; by whole key
    under the engine)."""
    store, sp = app.cache, f"{path}.cache"
    backend = (
        "the value (not shown: it may be secret)"
        if may_be_secret(f"{sp}.backend", store.backend, secret)
        else repr(store.backend)
    )
    if store.backend in defaults.LOCAL_CACHE_BACKENDS:
        yield Problem(
            f"{sp}.backend",
            f"{backend} keeps a separate cache in each container; the app runs "
            "in several containers in parallel, so entries, invalidations and rate limits "
            "would not be shared. Use database (the default) or redis",
        )
    elif store.backend not in ("database", "redis"):
        yield Problem(f"{sp}.backend", f"{backend} is not allowed; use database or redis")
    if store.backend == "redis":
        redis = store.redis
        if redis is None or (redis.managed is None) == (redis.url is None):
            yield Problem(f"{sp}.redis", "give exactly one of managed (aws | azure) or url")
        elif redis.url is not None and not secret(f"{sp}.redis.url"):
            yield Problem(
                f"{sp}.redis.url",
                f"must be a secret (it holds a password): pulumi config set --secret "
                f"--path 'appcdn:{sp}.redis.url' rediss://…",
            )
        if redis is not None:
            yield from _other_cloud_problems(f"{sp}.redis", redis)
            yield from _placement_problems(f"{sp}.redis", redis)
    elif store.redis is not None:
        yield Problem(f"{sp}.redis", "only with backend redis")


_CLOUD_SETTINGS = {"aws": ("region",), "azure": ("location", "resource_group")}
"""The settings of each cloud's managed cache (the placement's own checks are below)."""


def _other_cloud_problems(path: str, redis: RedisStore) -> Iterable[Problem]:
    """Settings of a cloud the cache is not on would be ignored: refused, as media refuses the other backend's."""
    where = f"managed: {redis.managed}" if redis.managed else "an external cache (url)"
    for cloud, keys in _CLOUD_SETTINGS.items():
        for key in keys:
            if cloud != redis.managed and key in redis.model_fields_set:
                yield Problem(
                    f"{path}.{key}",
                    f"is a setting of a managed {cloud} cache, but this one is {where}: it would be ignored; "
                    f"remove it, or change managed",
                )


MIN_SUBNETS = 2
"""A serverless cache spans availability zones: AWS picks 2 default subnets in a region of two zones
(us-west-1), 3 elsewhere (the ``SubnetIds`` reference of ``CreateServerlessCache``)."""


def _placement_problems(path: str, redis: RedisStore) -> Iterable[Problem]:
    """ElastiCache Serverless lives in a VPC: without subnets and security groups it lands in the default VPC
    (absent in many accounts) behind its default group, unreachable from an app that runs anywhere else."""
    placement = {"subnet_ids": redis.subnet_ids, "security_group_ids": redis.security_group_ids}
    if redis.managed != "aws":
        for key, value in placement.items():
            if value is not None:
                yield Problem(f"{path}.{key}", "only with managed: aws (the cache's place in your VPC)")
        return
    for key, value in placement.items():
        if not value:
            yield Problem(
                f"{path}.{key}",
                "required with managed: aws: "
                + (
                    f"at least {MIN_SUBNETS} subnets of the app's VPC, in different availability zones"
                    if key == "subnet_ids"
                    else "at least one security group admitting TCP 6379-6380 from the app"
                ),
            )
            continue
        for i, item in enumerate(value):
            if item in value[:i]:
                yield Problem(f"{path}.{key}[{i}]", f"{item!r} is listed twice")
    subnets = set(redis.subnet_ids or ())
    if 0 < len(subnets) < MIN_SUBNETS:
        yield Problem(
            f"{path}.subnet_ids",
            f"{len(subnets)} subnet given; a serverless cache needs at least {MIN_SUBNETS}, in different "
            "availability zones of one VPC",
        )
