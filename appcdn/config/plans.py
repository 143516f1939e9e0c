"""What each Cloudflare plan allows, in one table; every tier check in the config goes through ``plan_at_least``."""

from __future__ import annotations

from typing import Literal

PlanTier = Literal["free", "pro", "business", "enterprise"]

TIER_ORDER: dict[str, int] = {"free": 0, "pro": 1, "business": 2, "enterprise": 3}

RULES_PER_PHASE: dict[str, int] = {"free": 10, "pro": 25, "business": 50, "enterprise": 300}
"""Rules per zone and phase: cache rules, and the same numbers for configuration and Cloud Connector rules.
https://developers.cloudflare.com/cache/how-to/cache-rules/#availability"""

MIN_EDGE_TTL: dict[str, int] = {"free": 7200, "pro": 3600, "business": 1, "enterprise": 1}
"""Lowest edge TTL, in seconds, a cache rule may override to.
https://developers.cloudflare.com/cache/how-to/edge-browser-cache-ttl/#edge-cache-ttl"""

MIN_BROWSER_TTL: dict[str, int] = {"free": 7200, "pro": 3600, "business": 1, "enterprise": 1}
"""Lowest browser TTL, in seconds, a cache rule may override to (page rules had 2 minutes).
https://developers.cloudflare.com/cache/how-to/edge-browser-cache-ttl/#browser-cache-ttl"""

MAX_TTL = 31536000
"""One year: the longest edge, browser and status-code TTL a cache rule takes.
https://developers.cloudflare.com/cache/how-to/cache-rules/settings/#edge-ttl"""

MAX_QUERY_PARAMETERS = 100
"""Query-string parameters in one custom cache key.
https://developers.cloudflare.com/cache/how-to/cache-rules/settings/#cache-key"""


FEATURES: dict[str, tuple[PlanTier, str]] = {
    "polish": ("pro", "Polish"),  # https://developers.cloudflare.com/images/polish/
    "regex": ("business", "regex matching ('matches' / '~')"),
    # https://developers.cloudflare.com/ruleset-engine/rules-language/operators/#comparison-operators
    "custom_ssl": ("business", "an uploaded certificate (custom SSL)"),
    # https://developers.cloudflare.com/ssl/edge-certificates/custom-certificates/
    "query_string_lists": ("enterprise", "a cache key with chosen query-string parameters (include or exclude a list)"),
    # https://developers.cloudflare.com/cache/how-to/cache-rules/settings/#cache-key ("Enterprise customers have
    # these additional options": all, all except, none except; ignoring the query string is offered to all)
}
"""Features that need a minimum plan: feature → (lowest plan, what the messages call it)."""


def plan_at_least(plan: PlanTier, tier: PlanTier) -> bool:
    """Whether a zone on ``plan`` has what ``tier`` offers."""
    return TIER_ORDER[plan] >= TIER_ORDER[tier]


def needs(plan: PlanTier, feature: str) -> str | None:
    """The message for a ``FEATURES`` entry on a plan below its tier, or None when the plan has it."""
    tier, what = FEATURES[feature]
    return None if plan_at_least(plan, tier) else f"{what} needs the {tier} plan or above; the zone is on {plan}"
