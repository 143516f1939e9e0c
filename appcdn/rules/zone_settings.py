"""A zone's config → the Cloudflare zone settings (``setting_id`` → value) the owner stack manages."""

from appcdn.config.plans import plan_at_least
from appcdn.config.zones import ZoneConfig


def _on(flag: bool) -> str:
    return "on" if flag else "off"


def zone_settings(zone: ZoneConfig) -> dict[str, str]:
    """Baseline security settings, and image optimisation where the plan has it (Polish needs Pro)."""
    s = zone.settings
    settings = {
        "ssl": s.ssl,
        "min_tls_version": s.min_tls_version,
        "tls_1_3": s.tls_1_3,
        "always_use_https": _on(s.always_use_https),
        "automatic_https_rewrites": _on(s.automatic_https_rewrites),
        "http3": _on(s.http3),
    }
    if plan_at_least(zone.plan, "pro"):
        settings["polish"] = zone.images.polish
        settings["webp"] = _on(zone.images.webp)
    return settings
