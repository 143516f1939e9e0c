"""Every default appcdn applies, as plain data in one place (no logic, no imports of our own).

The config models take their defaults from here, the policy compilers their stage rules, the components
their security constants. docs/configuration.md's "Defaults" section describes the same values.
"""

from typing import Any, Final

# --- Edge: Cloudflare zones ----------------------------------------------------------------------------

ZONE_PLAN: Final = "free"
"""Cloudflare plan assumed when a zone does not say; the strictest limits apply."""

ZONE_SETTINGS: Final[dict[str, Any]] = {
    "ssl": "strict",  # Full (strict): the origin's certificate is verified
    "min_tls_version": "1.2",
    "tls_1_3": "on",
    "always_use_https": True,
    "automatic_https_rewrites": True,
    "http3": True,
}
"""Baseline zone settings: TLS >= 1.2, HTTPS only, a verified origin."""

STATIC_EDGE_TTL: Final = 30 * 24 * 3600
"""Edge TTL of ``/static/*`` on Live: Django's collected static files are hashed, so they never go stale."""

SESSION_COOKIES: Final = ["sessionid"]
"""Cookies whose presence bypasses the cache on every stage (Django's default SESSION_COOKIE_NAME)."""

STATIC_PREFIX: Final = "/static/"
"""Where Django serves its collected static files (STATIC_URL)."""

STAGE_CACHE_RULES: Final[dict[str, list[dict[str, Any]]]] = {
    # Test: development-friendly; its final safety bypass (below) keeps every app request off the cache.
    "test": [],
    # Live: Django decides per response (cached only when it sends Cache-Control), hashed static files
    # (collected under /static/, served without cookies) are cached for 30 days.
    "live": [
        {
            "name": "app",
            "action": "cache",
            "edge_ttl": {"mode": "bypass_by_default"},
            "browser_ttl": {"mode": "respect_origin"},
            "cache_key": {"deception_armor": True},
        },
        {
            "name": "static",
            "match": {"path_prefixes": [STATIC_PREFIX]},
            "action": "cache",
            "edge_ttl": {"mode": "override_origin", "default": STATIC_EDGE_TTL},
            "browser_ttl": {"mode": "respect_origin"},
        },
    ],
}
"""The neutral cache rules each stage starts from, in order; a user rule of the same name replaces one."""

ADMIN_SEGMENTS: Final = ["admin"]
"""Path segments under which the Django admin is served: /admin, /en/admin/, /ADMIN/ alike."""

CMS_EDIT_QUERY_ARGS: Final = ["edit", "preview", "structure", "toolbar_off"]
"""django CMS edit, preview and toolbar requests (``?edit``, ``?toolbar_off``, …)."""

CMS_EDIT_SEGMENTS: Final = ["cms_wizard"]
"""django CMS paths that are only ever used by editors."""

CACHEABLE_METHODS: Final = ["GET", "HEAD"]
"""Methods the edge may cache; every other method is bypassed explicitly."""

STATIC_EXTENSIONS: Final = [
    "avif",
    "css",
    "eot",
    "gif",
    "ico",
    "jpeg",
    "jpg",
    "js",
    "map",
    "mjs",
    "otf",
    "png",
    "svg",
    "ttf",
    "webp",
    "woff",
    "woff2",
]
"""File types a Django app serves as static files, which never set cookies."""

SAFETY_RULES: Final[list[dict[str, Any]]] = [
    {"name": "admin", "match": {"path_segments": ADMIN_SEGMENTS}, "action": "bypass"},
    {"name": "cms-edit", "match": {"query_args": CMS_EDIT_QUERY_ARGS}, "action": "bypass"},
    {"name": "cms-wizard", "match": {"path_segments": CMS_EDIT_SEGMENTS}, "action": "bypass"},
    {"name": "methods", "match": {"methods": ["DELETE", "OPTIONS", "PATCH", "POST", "PUT"]}, "action": "bypass"},
    # "session": the site's session_cookies, added by the policy compiler
    {"name": "authorization", "match": {"headers": ["authorization"]}, "action": "bypass"},
]
"""Bypasses emitted after every user rule of every site, so that no rule can override them (Cloudflare applies
every matching rule in order and the last one wins)."""

TEST_STAGE_BYPASS: Final[dict[str, Any]] = {"name": "test-stage", "action": "bypass"}
"""Test's last rule: nothing on a Test app host is cached at the edge, whatever the rules above say."""

SAFETY_RULE_NAMES: Final = ("admin", "cms-edit", "cms-wizard", "methods", "session", "authorization", "test-stage")
"""Names of the rules appended after every user rule of a site; reserved."""

# --- Media storage ---------------------------------------------------------------------------------------

PUBLIC_PREFIXES: Final = ["filer_public/", "filer_public_thumbnails/"]
"""Object-key prefixes anyone may read (django-filer's public files and thumbnails)."""

MEDIA_HEADERS: Final[list[dict[str, str]]] = [
    {"match": "filer_public_thumbnails/*", "cache_control": "public, max-age=31536000"},
    {"match": "*", "cache_control": "public, max-age=3600"},
]
"""Header rules, first match wins: one year for public thumbnails, one hour for everything else."""

SYNC_HEADERS_ON_DEPLOY: Final = True
"""``pulumi up`` reconciles the headers of stored objects when a site's header rules change."""

AWS_REGION: Final = "eu-central-1"
AZURE_LOCATION: Final = "westeurope"
NONCURRENT_VERSION_DAYS: Final = 30
"""Live S3: how long replaced or deleted object versions are kept."""
SOFT_DELETE_DAYS: Final = 30
"""Live Azure: blob and container soft-delete retention."""

STORAGE_POSTURE: Final[dict[str, dict[str, bool]]] = {
    "live": {"protect": True, "versioning": True},
    "test": {"protect": False, "versioning": False},
}
"""Per stage: whether media storage is protected and retained on destroy, and keeps old versions."""

S3_ENCRYPTION: Final = "AES256"
AZURE_MIN_TLS: Final = "TLS1_2"
CORS_METHODS: Final = ["GET", "HEAD"]
CORS_MAX_AGE: Final = 3600
AZURE_PUBLIC_CONTAINER: Final = "public"
AZURE_PRIVATE_CONTAINER: Final = "private"
MULTIPART_UPLOAD_ABORT_DAYS: Final = 7

INVENTORY_FREQUENCY: Final = "Weekly"
"""S3 Batch Operations: how often S3 Inventory lists a media bucket for the header job."""
BATCH_REPORTS_DAYS: Final = 30
"""S3 Batch Operations: inventory reports and job completion reports expire after this many days."""
BATCH_LAMBDA_RUNTIME: Final = "python3.12"
BATCH_LAMBDA_TIMEOUT: Final = 900
"""Seconds: the Lambda maximum, for multipart copies of objects over 5 GB."""
BATCH_LAMBDA_MEMORY: Final = 256
BATCH_JOB_PRIORITY: Final = 10
MULTIPART_THRESHOLD_MIB: Final = 5 * 1024
"""S3: objects larger than this (MiB) are copied part by part; 5 GiB is ``CopyObject``'s limit."""
STORE_ATTEMPTS: Final = 10
"""Attempts of each S3 or Azure Blob request of the header reconcile (the first and nine retries), whatever
failed: throttling, 5xx, a reset connection, a timeout."""
LOG_RETENTION_DAYS: Final = 30

# --- Certificates ----------------------------------------------------------------------------------------

CERTIFICATE_AUTHORITY: Final = "lets_encrypt"
VALIDATION_METHOD: Final = "txt"
ADVANCED_VALIDITY_DAYS: Final = 90
"""Validity of an advanced pack when none is configured; every certificate authority issues for it."""
ORIGIN_CA_VALIDITY_DAYS: Final = 5475
"""Validity of an Origin CA certificate when none is configured (15 years, Cloudflare's default)."""
CUSTOM_SSL_TYPE: Final = "legacy_custom"
"""Cloudflare's default for uploads: also serves clients without SNI (not compatible with BYOIP)."""
CUSTOM_SSL_BUNDLE: Final = "ubiquitous"
ACM_REGION: Final = "us-east-1"
"""ACM region: CloudFront only takes certificates from us-east-1."""
ACM_VALIDATION_TTL: Final = 60

# --- The application's own cache -------------------------------------------------------------------------

CACHE_BACKEND: Final = "database"
"""Django's database cache: shared by every container, nothing to provision (``createcachetable``)."""
CACHE_TABLE: Final = "appcdn_cache"
LOCAL_CACHE_BACKENDS: Final = (
    "locmem",
    "file",
    "django.core.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.filebased.FileBasedCache",
)
"""Per-container caches, refused: containers run in parallel, each would keep its own copy."""

CMS_CACHE_DURATIONS: Final[dict[str, dict[str, int]]] = {
    "test": {"content": 0, "menus": 0, "permissions": 0},
    "live": {"content": 60, "menus": 3600, "permissions": 3600},
}
"""django CMS ``CMS_CACHE_DURATIONS`` per stage, in seconds (0 turns a cache off); local development uses Test's."""

PURGE_ON_CHANGE: Final[dict[str, str]] = {"test": "off", "live": "on"}
"""``APPCDN_PURGE`` per stage, exported in ``app_env``: the app purges what changes from the edge on Live (nothing
is cached on Test). The app's settings can switch it after ``configure``."""
CACHE_PURGE_PERMISSION_GROUP: Final = "e17beae8b8cb423a99b1730f21238bed"
"""Cloudflare's permission group "Cache Purge" (scope ``com.cloudflare.api.account.zone``), the only one the app's
token gets (GET /user/tokens/permission_groups lists it)."""

REDIS_AZURE_SKU: Final = ("Basic", "C", 0)
"""Azure Cache for Redis: SKU name, family and capacity (Basic C0, the smallest)."""
REDIS_PORT_TLS: Final = 6380
"""Azure Cache for Redis: the TLS port (the plain port stays closed)."""
VALKEY_MAJOR_VERSION: Final = "8"
"""AWS ElastiCache Serverless engine version (Valkey)."""
VALKEY_APP_ACCESS: Final = (
    "on ~* -@all +get +set +mget +mset +del +exists +expire +persist +incrby +multi +exec +discard +flushdb"
)
"""The app user's access string: the commands Django's ``RedisCache`` sends (get, set with NX/EX, mget, a
MULTI/EXEC pipeline of mset and expire, del, exists, expire, persist, incrby, flushdb for ``clear()``) on
every key, nothing else (no CONFIG, KEYS, SCRIPT, FLUSHALL, no pub/sub). tests/test_app_cache.py runs two
Django processes as a Redis ACL user with exactly this string."""
VALKEY_DEFAULT_ACCESS: Final = "off -@all"
"""The ``default`` user ElastiCache requires in every user group: disabled, no command."""
