"""The rules a ``Zone`` takes, typed as the policy compiler emits them (and as Cloudflare's API keeps them).

The provider SDK has its own ``RulesetRuleArgsDict`` and ``CloudConnectorRulesRuleArgsDict``, but their
nested types are forward references the component package's schema analyzer cannot resolve, and they
describe every action of every phase. These describe exactly the cache, configuration and Cloud Connector
rules appcdn writes, so the inferred schema is complete; ``Zone`` hands them to the SDK unchanged.
"""

from collections.abc import Sequence
from typing import NotRequired, TypedDict

import pulumi


class StatusCodeRange(TypedDict):
    from_: NotRequired[int]
    """First status code of the range."""
    to: NotRequired[int]
    """Last status code of the range."""


class StatusCodeTtl(TypedDict):
    value: int
    """Seconds; 0 = no-cache, -1 = no-store."""
    status_code: NotRequired[int]
    """One status code."""
    status_code_range: NotRequired[StatusCodeRange]
    """Or an inclusive range."""


class EdgeTtl(TypedDict):
    mode: str
    """respect_origin, bypass_by_default or override_origin."""
    default: NotRequired[int]
    """Seconds, with override_origin."""
    status_code_ttls: NotRequired[Sequence[StatusCodeTtl]]
    """TTLs per status code or range."""


class BrowserTtl(TypedDict):
    mode: str
    """respect_origin, override_origin or bypass."""
    default: NotRequired[int]
    """Seconds, with override_origin."""


class QueryStringNames(TypedDict):
    all: NotRequired[bool]
    """Every query argument."""
    lists: NotRequired[Sequence[str]]
    """These query arguments."""


class QueryStringKey(TypedDict):
    include: NotRequired[QueryStringNames]
    """Only these arguments are in the cache key."""
    exclude: NotRequired[QueryStringNames]
    """These arguments are left out of the cache key."""


class CustomKey(TypedDict):
    query_string: QueryStringKey
    """The query-string part of the cache key."""


class CacheKey(TypedDict):
    cache_deception_armor: NotRequired[bool]
    """Refuse to cache a response whose type does not match the path's extension."""
    ignore_query_strings_order: NotRequired[bool]
    """Sort query arguments before caching."""
    custom_key: NotRequired[CustomKey]
    """What the key holds beyond the URL."""


class ServeStale(TypedDict):
    disable_stale_while_updating: bool
    """Do not serve stale content while revalidating."""


class RuleParameters(TypedDict):
    cache: NotRequired[bool]
    """Cache rules: eligible for cache (true) or bypass (false)."""
    edge_ttl: NotRequired[EdgeTtl]
    """Cache rules: how long the edge keeps a response."""
    browser_ttl: NotRequired[BrowserTtl]
    """Cache rules: how long browsers keep a response."""
    cache_key: NotRequired[CacheKey]
    """Cache rules: the cache key."""
    serve_stale: NotRequired[ServeStale]
    """Cache rules: serving stale content."""
    origin_error_page_passthru: NotRequired[bool]
    """Cache rules: show the origin's error pages."""
    respect_strong_etags: NotRequired[bool]
    """Cache rules: keep the origin's strong ETags."""
    polish: NotRequired[str]
    """Configuration rules: off, lossless or lossy."""


class PhaseRule(TypedDict):
    ref: str
    """Stable reference, so that reordering rules does not replace them."""
    description: str
    """What the rule is for."""
    expression: str
    """Cloudflare rules expression selecting the requests."""
    action: str
    """set_cache_settings (cache rules) or set_config (configuration rules)."""
    action_parameters: RuleParameters
    """The settings the rule makes."""
    enabled: bool
    """Whether the rule is on."""


class ConnectorParameters(TypedDict):
    host: pulumi.Input[str]
    """The bucket's (or storage account's) host."""


class ConnectorRule(TypedDict):
    cloud_connector_rules_provider: str
    """aws_s3, azure_storage, gcp_storage or cloudflare_r2."""
    description: str
    """What the rule is for."""
    enabled: bool
    """Whether the rule is on."""
    expression: str
    """Cloudflare rules expression selecting the requests (the media host)."""
    parameters: ConnectorParameters
    """Where the requests go."""
