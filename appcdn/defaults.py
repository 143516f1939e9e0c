"""Every default appcdn applies, as plain data in one place (no logic, no imports of our own).

The config models take their defaults from here, the policy compilers their stage rules, the components
their security constants. The README's "Defaults" section describes the same values.
"""

from typing import Any, Final

# --- Edge: Cloudflare zones ----------------------------------------------------------------------------

ZONE_PLAN: Final = "free"
"""Cloudflare plan assumed when a zone does not say; the strictest limits apply."""

ZONE_SETTINGS: dict[str, Any] = {
    "ssl": "strict",                   # Full (strict): the origin's certificate is verified
    "min_tls_version": "1.2",
    "tls_1_3": "on",
    "always_use_https": True,
    "automatic_https_rewrites": True,
    "http3": True,
}
"""Baseline zone settings: TLS >= 1.2, HTTPS only, a verified origin."""

STATIC_EDGE_TTL = 30 * 24 * 3600
"""Edge TTL of ``/static/*`` on Live: Django's collected static files are hashed, so they never go stale."""

SESSION_COOKIES = ["sessionid"]
"""Cookies whose presence bypasses the cache on every stage (Django's default SESSION_COOKIE_NAME)."""

STAGE_CACHE_RULES: dict[str, list[dict[str, Any]]] = {
    # Test: development-friendly, nothing on an app host is cached at the edge.
    "test": [
        {"name": "app", "action": "bypass"},
    ],
    # Live: Django decides per response (cached only when it sends Cache-Control), static files are
    # cached for 30 days, the admin never.
    "live": [
        {"name": "app", "action": "cache", "edge_ttl": {"mode": "bypass_by_default"},
         "browser_ttl": {"mode": "respect_origin"}, "cache_key": {"deception_armor": True}},
        {"name": "static", "match": {"path_prefixes": ["/static/"]}, "action": "cache",
         "edge_ttl": {"mode": "override_origin", "default": STATIC_EDGE_TTL},
         "browser_ttl": {"mode": "respect_origin"}},
        {"name": "admin", "match": {"path_prefixes": ["/admin/"]}, "action": "bypass"},
    ],
}
"""The neutral cache rules each stage starts from, in order; a user rule of the same name replaces one."""

SAFETY_RULE_NAMES = ("session", "authorization")
"""Names of the bypasses appended after every other rule of a site; reserved."""

# --- Media storage ---------------------------------------------------------------------------------------

PUBLIC_PREFIXES = ["filer_public/", "filer_public_thumbnails/"]
"""Object-key prefixes anyone may read (django-filer's public files and thumbnails)."""

MEDIA_HEADERS: list[dict[str, str]] = [
    {"match": "filer_public_thumbnails/*", "cache_control": "public, max-age=31536000"},
    {"match": "*", "cache_control": "public, max-age=3600"},
]
"""Header rules, first match wins: one year for public thumbnails, one hour for everything else."""

AWS_REGION = "eu-central-1"
AZURE_LOCATION = "westeurope"
NONCURRENT_VERSION_DAYS = 30
"""Live S3: how long replaced or deleted object versions are kept."""
SOFT_DELETE_DAYS = 30
"""Live Azure: blob and container soft-delete retention."""

STORAGE_POSTURE: dict[str, dict[str, bool]] = {
    "live": {"protect": True, "versioning": True},
    "test": {"protect": False, "versioning": False},
}
"""Per stage: whether media storage is protected and retained on destroy, and keeps old versions."""

S3_ENCRYPTION = "AES256"
AZURE_MIN_TLS = "TLS1_2"
CORS_METHODS = ["GET", "HEAD"]
CORS_MAX_AGE = 3600
AZURE_PUBLIC_CONTAINER = "public"
AZURE_PRIVATE_CONTAINER = "private"
MULTIPART_UPLOAD_ABORT_DAYS = 7

# --- Certificates ----------------------------------------------------------------------------------------

CERTIFICATE_AUTHORITY: Final = "lets_encrypt"
VALIDATION_METHOD: Final = "txt"
ADVANCED_VALIDITY_DAYS = 90
"""Validity of an advanced pack when none is configured; every certificate authority issues for it."""
ORIGIN_CA_VALIDITY_DAYS = 5475
"""Validity of an Origin CA certificate when none is configured (15 years, Cloudflare's default)."""
CUSTOM_SSL_TYPE = "legacy_custom"
"""Cloudflare's default for uploads: also serves clients without SNI (not compatible with BYOIP)."""
CUSTOM_SSL_BUNDLE = "ubiquitous"
ACM_REGION = "us-east-1"
"""ACM region: CloudFront only takes certificates from us-east-1."""
ACM_VALIDATION_TTL = 60
