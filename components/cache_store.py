"""``CacheStore``: a managed Redis for a site's Django cache, shared by every container, TLS and auth only.

- ``azure``: Azure Cache for Redis, TLS port only, TLS 1.2 minimum; the URL carries the access key.
- ``aws``: ElastiCache Serverless (Valkey), always TLS, with its own user and a generated password, allowed
  only the commands Django's cache sends (``defaults.VALKEY_APP_ACCESS``). Its user group also holds the
  ``default`` user every ElastiCache user group must include (botocore's CreateUserGroup error
  ``DefaultUserRequired``), disabled (``off -@all``) and with a password of its own (a Valkey user group admits
  only users that authenticate). Like every ElastiCache cache it is reachable only from inside its VPC: its
  endpoints go into ``subnet_ids`` behind ``security_group_ids``, and the app must run in that VPC (or reach
  it by peering, Transit Gateway or VPN).
"""

from collections.abc import Mapping, Sequence
from enum import Enum
from typing import NotRequired, TypedDict

import pulumi
import pulumi_aws as aws
import pulumi_random as random
from pulumi_azure_native import redis, resources

from appcdn import defaults


class Cloud(str, Enum):
    """Where a managed cache runs."""

    AWS = "aws"
    AZURE = "azure"


class CacheStoreArgs(TypedDict):
    cloud: Cloud
    """Where to run the cache."""
    region: NotRequired[str]
    """aws: the region."""
    location: NotRequired[str]
    """azure: the location."""
    resource_group: NotRequired[str | None]
    """azure: an existing resource group; default: create one."""
    subnet_ids: NotRequired[Sequence[str]]
    """aws: subnets of one VPC, in at least two availability zones (without them: the default VPC's)."""
    security_group_ids: NotRequired[Sequence[str]]
    """aws: security groups of the cache's endpoints (without them: the VPC's default group)."""
    tags: Mapping[str, str]
    """Tags of the cache (and a created group)."""


def redis_url(user: str, password: str | None, host: str, port: int | float) -> str:
    """``rediss://`` (TLS) URL of the cache, as django's RedisCache and ``CACHE_URL`` take it."""
    return f"rediss://{user}:{password or ''}@{host}:{int(port)}/0"


class CacheStore(pulumi.ComponentResource):
    """A Redis cache and the secret URL the app connects with."""

    cache_url: pulumi.Output[str]
    """``rediss://user:password@host:port/0``; a secret."""
    host: pulumi.Output[str]
    """The cache's host name."""

    def __init__(self, name: str, args: CacheStoreArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("appcdn:index:CacheStore", name, {}, opts)
        child = pulumi.ResourceOptions(parent=self)
        tags = dict(args["tags"])
        if args["cloud"] == Cloud.AZURE:
            location = args.get("location", defaults.AZURE_LOCATION)
            sku, family, capacity = defaults.REDIS_AZURE_SKU
            group = args.get("resource_group")
            group_name = (
                pulumi.Output.from_input(group)
                if group
                else resources.ResourceGroup(f"{name}-group", location=location, tags=tags, opts=child).name
            )
            cache = redis.Redis(
                f"{name}-redis",
                resource_group_name=group_name,
                location=location,
                sku=redis.SkuArgsDict(name=sku, family=family, capacity=capacity),
                enable_non_ssl_port=False,
                minimum_tls_version="1.2",
                public_network_access="Enabled",
                tags=tags,
                opts=child,
            )
            keys = redis.list_redis_keys_output(name=cache.name, resource_group_name=group_name)
            self.host = cache.host_name
            url = pulumi.Output.all(keys.primary_key, cache.host_name).apply(
                lambda v: redis_url("", v[0], v[1], defaults.REDIS_PORT_TLS)
            )
        else:
            region = args.get("region", defaults.AWS_REGION)
            user, password = _valkey_user(
                f"{name}-user",
                f"{name}-password",
                f"{name}-app",
                "app",
                defaults.VALKEY_APP_ACCESS,
                region,
                tags,
                child,
            )
            default_user, _ = _valkey_user(
                f"{name}-default",
                f"{name}-default-password",
                f"{name}-default",
                "default",
                defaults.VALKEY_DEFAULT_ACCESS,
                region,
                tags,
                child,
            )
            users = aws.elasticache.UserGroup(
                f"{name}-users",
                user_group_id=f"{name}-users",
                engine="valkey",
                user_ids=[default_user.user_id, user.user_id],
                region=region,
                tags=tags,
                opts=child,
            )
            serverless = aws.elasticache.ServerlessCache(
                f"{name}-valkey",
                engine="valkey",
                major_engine_version=defaults.VALKEY_MAJOR_VERSION,
                user_group_id=users.user_group_id,
                subnet_ids=args.get("subnet_ids"),
                security_group_ids=args.get("security_group_ids"),
                region=region,
                tags=tags,
                opts=child,
            )
            endpoint = serverless.endpoints.apply(lambda e: e[0] if e else None)
            self.host = endpoint.apply(lambda e: e.address if e else "")
            url = pulumi.Output.all(password, endpoint).apply(
                lambda v: redis_url("app", v[0], v[1].address if v[1] else "", v[1].port if v[1] else 6379)
            )
        self.cache_url = pulumi.Output.secret(url)
        self.register_outputs({"cache_url": self.cache_url, "host": self.host})


def _valkey_user(
    name: str,
    password_name: str,
    user_id: str,
    user_name: str,
    access: str,
    region: pulumi.Input[str],
    tags: dict[str, str],
    opts: pulumi.ResourceOptions,
) -> tuple[aws.elasticache.User, pulumi.Output[str]]:
    """A Valkey user authenticating with a generated password of its own (a user group admits only users that
    authenticate); the password is returned as a secret."""
    generated = random.RandomPassword(password_name, length=40, special=False, opts=opts)
    password: pulumi.Output[str] = pulumi.Output.secret(generated.result)
    user = aws.elasticache.User(
        name,
        user_id=user_id,
        user_name=user_name,
        engine="valkey",
        access_string=access,
        authentication_mode={"type": "password", "passwords": [password]},
        region=region,
        tags=tags,
        opts=opts,
    )
    return user, password
