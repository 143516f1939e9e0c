"""A Cloudflare zone: existing or created, its baseline settings and image optimisation, with their checks.

A zone is declared in exactly one stack file of the project, its owner's: that stack manages the zone's
settings, phase rulesets and Cloud Connector rules for every stage's sites on it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal

from pydantic import Field

from appcdn import defaults
from appcdn.config.cache import PolishMode
from appcdn.config.fields import CLOUDFLARE_ID_RE, HOST_RE, Strict
from appcdn.config.plans import PlanTier, needs
from appcdn.config.problems import Problem

_SETTINGS = defaults.ZONE_SETTINGS


class ZoneSettings(Strict):
    """Baseline zone settings; secure by default. TLS below 1.2 and plain-HTTP origins are not offered."""

    ssl: Literal["full", "strict"] = Field(
        default=_SETTINGS["ssl"], description="strict verifies the origin's certificate"
    )
    min_tls_version: Literal["1.2", "1.3"] = Field(default=_SETTINGS["min_tls_version"], description="quote it")
    tls_1_3: Literal["on", "off", "zrt"] = Field(default=_SETTINGS["tls_1_3"], description="zrt: with 0-RTT")
    always_use_https: bool = Field(default=_SETTINGS["always_use_https"], description="redirect HTTP to HTTPS")
    automatic_https_rewrites: bool = Field(
        default=_SETTINGS["automatic_https_rewrites"], description="rewrite http:// links in pages"
    )
    http3: bool = Field(default=_SETTINGS["http3"], description="HTTP/3 (QUIC)")


class ZoneImages(Strict):
    """Zone-wide image optimisation."""

    polish: PolishMode = Field(default="off", description="Pro and above")
    webp: bool = Field(default=False, description="needs Polish on")
    mirage: Any = Field(default=None, description="retired by Cloudflare; any value is an error")


class ZoneConfig(Strict):
    """A Cloudflare zone. Use an existing one (``id``) or create one (``account_id``), not both."""

    id: str | None = Field(default=None, description="existing zone's id (32 lower-case hexadecimal characters)")
    account_id: str | None = Field(
        default=None, description="create the zone in this account (its 32-character id); retained on destroy"
    )
    plan: PlanTier = Field(
        default=defaults.ZONE_PLAN, description="the zone's Cloudflare plan; limits are checked against it"
    )
    settings: ZoneSettings = Field(default=ZoneSettings(), description="see Defaults")
    images: ZoneImages = Field(default=ZoneImages(), description="zone-wide Polish and WebP")


def zone_problems(path: str, name: str, zone: ZoneConfig) -> Iterable[Problem]:
    if not HOST_RE.match(name):
        yield Problem(path, "zone names are apex domains such as example.com")
    for key in ("id", "account_id"):
        value = getattr(zone, key)
        if value is not None and not CLOUDFLARE_ID_RE.match(value):
            # the API's identifiers: https://developers.cloudflare.com/fundamentals/account/find-account-and-zone-ids/
            yield Problem(
                f"{path}.{key}",
                f"{value!r} is not a Cloudflare {key.replace('_', ' ')} (32 lower-case hexadecimal characters, as the "
                "dashboard's Overview page shows it)",
            )
    if zone.id and zone.account_id:
        yield Problem(path, "give id to use an existing zone or account_id to create one, not both")
    if not zone.id and not zone.account_id:
        yield Problem(
            path, "give id (existing zone) or account_id (create it): the stack that declares a zone manages it"
        )
    yield from _image_problems(f"{path}.images", zone.images, zone.plan)


def _image_problems(path: str, images: ZoneImages, plan: PlanTier) -> Iterable[Problem]:
    if images.mirage is not None:
        # https://developers.cloudflare.com/speed/optimization/images/mirage/
        yield Problem(
            f"{path}.mirage",
            "Mirage was retired by Cloudflare (deprecated November 2025, API end of life January 2026);"
            ' use polish, or image transformations with loading="lazy" and srcset',
        )
    message = needs(plan, "polish")
    if images.polish != "off" and message:
        # https://developers.cloudflare.com/images/polish/
        yield Problem(f"{path}.polish", message)
    if images.webp and images.polish == "off":
        # https://developers.cloudflare.com/images/polish/activate-polish/ (WebP is an option of Polish)
        yield Problem(f"{path}.webp", "WebP needs Polish on (lossless or lossy)")
