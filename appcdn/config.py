"""The stack config model: everything a stack can declare, validated before any resource exists.

A stack's config lives in its Pulumi config namespace (``appcdn:``)::

    appcdn:stage: live                 # optional; defaults to the stack name (test | live)
    appcdn:zones:                      # Cloudflare zones, by apex name
      example.com: {id: "...", plan: pro, owner: live, images: {polish: lossless, webp: true}}
    appcdn:sites:                      # the apps this stack serves
      - name: shop
        zone: example.com
        hosts: [www.example.com]
        cache: {rules: [...]}

Validation runs in two passes and reports every problem of both together:
structure (pydantic, unknown keys are errors) then meaning (tier limits, cross references).
Each problem names its key path, e.g. ``sites[0].cache.rules[2].edge_ttl.default``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import octorules_wirefilter
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, SecretStr, ValidationError

NAMESPACE = "appcdn"
STAGES = ("test", "live")

Stage = Literal["test", "live"]
PlanTier = Literal["free", "pro", "business", "enterprise"]
PolishMode = Literal["off", "lossless", "lossy"]

TIER_ORDER = {"free": 0, "pro": 1, "business": 2, "enterprise": 3}
# Rules per zone and phase (cache rules; configuration rules share the numbers). FACTS.md, Cloudflare docs.
RULES_PER_PHASE = {"free": 10, "pro": 25, "business": 50, "enterprise": 300}
# Lowest edge TTL a cache rule may override to, in seconds.
MIN_EDGE_TTL = {"free": 7200, "pro": 3600, "business": 1, "enterprise": 1}

# Rule names the session bypass takes on every stage (see appcdn.defaults).
RESERVED_RULE_NAMES = ("session", "authorization")

NAME_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,30}$")
HOST_RE = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
HEADER_NAME_RE = re.compile(r"^[a-z0-9!#$%&'*+.^_`|~-]+$")
COOKIE_NAME_RE = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]+$")
EXTENSION_RE = re.compile(r"^[a-z0-9]{1,16}$")
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
# Characters a path prefix or glob may hold: an RFC 3986 path, with '*' as the only wildcard.
PATH_RE = re.compile(r"^/[A-Za-z0-9._~!$&'()+,;=:@%/-]*$")
GLOB_RE = re.compile(r"^/[A-Za-z0-9._~!$&'()+,;=:@%/*-]*$")
METHOD_RE = re.compile("^(" + "|".join(METHODS) + ")$")
OBJECT_GLOB_RE = re.compile(r"^(?!/)[A-Za-z0-9._~!$&'()+,;=:@%/*-]+$")
OBJECT_PREFIX_RE = re.compile(r"^[A-Za-z0-9._~!$&'()+,;=:@%-][A-Za-z0-9._~!$&'()+,;=:@%/-]*/$")
BUCKET_RE = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
ACCOUNT_RE = re.compile(r"^[a-z0-9]{3,24}$")
MAX_AGE_RE = re.compile(r"(?:^|,)\s*max-age\s*=\s*(\d+)\s*(?:,|$)")


class Strict(BaseModel):
    """Base of every config node: unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def _check(pattern: re.Pattern, what: str, normalise=lambda v: v):
    def check(value: str) -> str:
        value = normalise(value)
        if not pattern.match(value):
            raise ValueError(f"{value!r} is not {what}")
        return value

    return AfterValidator(check)


def _check_expression(value: str) -> str:
    error = octorules_wirefilter.parse_expression(value).get("error")
    if error or not value.strip():
        raise ValueError(f"not a valid Cloudflare rules expression: {(error or 'empty').splitlines()[0]}")
    return value


Name = Annotated[str, _check(NAME_RE, "a name (lower-case letters, digits and '-', at most 31)")]
Host = Annotated[str, _check(HOST_RE, "a host name (a DNS name such as www.example.com)", str.lower)]
PathPrefix = Annotated[str, _check(PATH_RE, "a path prefix: it must start with '/' and hold no quotes or spaces")]
PathGlob = Annotated[str, _check(
    GLOB_RE, "a valid path glob: it must start with '/'; '*' is the only wildcard ('?', '[' and quotes are not allowed)")]
Extension = Annotated[str, _check(EXTENSION_RE, "a file extension (letters and digits, e.g. 'css')",
                                  lambda v: v.lower().lstrip("."))]
Method = Annotated[str, _check(METHOD_RE, f"an HTTP method; allowed: {', '.join(METHODS)}", str.upper)]
CookieName = Annotated[str, _check(COOKIE_NAME_RE, "a cookie name")]
HeaderName = Annotated[str, _check(HEADER_NAME_RE, "a header name", str.lower)]
Expression = Annotated[str, AfterValidator(_check_expression)]
ObjectGlob = Annotated[str, _check(
    OBJECT_GLOB_RE, "a valid object-key glob such as 'filer_public_thumbnails/*': no leading '/';"
                    " '*' is the only wildcard ('?', '[' and quotes are not allowed)")]
ObjectPrefix = Annotated[str, _check(OBJECT_PREFIX_RE, "an object-key prefix such as 'filer_public/' (ends with '/')")]
BucketName = Annotated[str, _check(BUCKET_RE, "an S3 bucket name (3-63 lower-case letters, digits, '-' and '.')")]
AccountName = Annotated[str, _check(ACCOUNT_RE, "a storage account name (3-24 lower-case letters and digits)")]


class Match(Strict):
    """Which requests a rule applies to. Criteria are ANDed; the values inside one criterion are ORed.

    ``hosts`` defaults to all of the site's hosts on the stage; a rule never reaches beyond its site.
    """

    hosts: list[Host] = []
    path_prefixes: list[PathPrefix] = []
    paths: list[PathGlob] = Field(default=[], description="globs; '*' matches any characters, '/' included")
    extensions: list[Extension] = []
    methods: list[Method] = []
    cookies: list[CookieName] = Field(default=[], description="names; matches when any is present")
    headers: list[HeaderName] = Field(default=[], description="names; matches when any is present")
    expression: Expression | None = Field(default=None, description="raw Cloudflare expression, ANDed")


class StatusCodeTtl(Strict):
    """Edge TTL for a status code (``code: 404``) or an inclusive range (``from: 500, to: 599``)."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    code: int | None = Field(default=None, ge=100, le=599)
    from_: int | None = Field(default=None, alias="from", ge=100, le=599)
    to: int | None = Field(default=None, ge=100, le=599)
    ttl: int = Field(ge=-1, description="seconds; 0 = no-cache, -1 = no-store")


class EdgeTtl(Strict):
    mode: Literal["respect_origin", "bypass_by_default", "override_origin"] = "respect_origin"
    default: int | None = Field(default=None, ge=1, le=31536000)
    status_codes: list[StatusCodeTtl] = []


class BrowserTtl(Strict):
    mode: Literal["respect_origin", "override_origin", "bypass"] = "respect_origin"
    default: int | None = Field(default=None, ge=1, le=31536000)


class QueryString(Strict):
    """Query-string part of the cache key: include only some, or exclude some (``'*'`` = all)."""

    include: list[str] | Literal["*"] | None = None
    exclude: list[str] | Literal["*"] | None = None


class CacheKey(Strict):
    query_string: QueryString | None = None
    ignore_query_order: bool | None = None
    deception_armor: bool | None = None


class CacheRule(Strict):
    """One neutral cache rule. ``bypass`` takes no other setting."""

    name: Name
    match: Match = Match()
    action: Literal["cache", "bypass"]
    edge_ttl: EdgeTtl | None = None
    browser_ttl: BrowserTtl | None = None
    cache_key: CacheKey | None = None
    serve_stale: bool | None = Field(default=None, description="serve stale content while revalidating")
    origin_error_passthrough: bool | None = None
    respect_strong_etags: bool | None = None


class CachePolicy(Strict):
    """A site's cache policy on one stage: the stage defaults, then ``rules``, then the session bypass."""

    stage_defaults: bool = True
    session_cookies: list[CookieName] = ["sessionid"]
    rules: list[CacheRule] = []


class ImageRule(Strict):
    """Polish for the requests that ``match``, through a configuration rule."""

    name: Name
    match: Match
    polish: PolishMode


class ZoneSettings(Strict):
    """Baseline zone settings; secure by default. TLS below 1.2 and plain-HTTP origins are not offered."""

    ssl: Literal["full", "strict"] = "strict"
    min_tls_version: Literal["1.2", "1.3"] = "1.2"
    tls_1_3: Literal["on", "off", "zrt"] = "on"
    always_use_https: bool = True
    automatic_https_rewrites: bool = True
    http3: bool = True


class ZoneImages(Strict):
    polish: PolishMode = "off"
    webp: bool = False
    mirage: Any = Field(default=None, description="retired; any value is an error")


class ZoneConfig(Strict):
    """A Cloudflare zone. Use an existing one (``id``) or create one (``account_id``), not both.

    ``owner`` is the stage whose stack manages the zone's settings and its phase rulesets; the other
    stage's stack only adds its host names (see README, "Test and Live on one zone").
    """

    id: str | None = None
    account_id: str | None = None
    plan: PlanTier = "free"
    owner: Stage = "live"
    settings: ZoneSettings = ZoneSettings()
    images: ZoneImages = ZoneImages()



class HeaderRule(Strict):
    """Headers for the objects whose key matches ``match``. In a list, the first match wins."""

    match: ObjectGlob
    cache_control: str
    content_disposition: str | None = None
    content_language: str | None = None
    edge_ttl: Literal["auto", "override", "respect_origin"] = Field(
        default="auto", description="override: the edge uses max-age even for objects stored without the "
                                    "header; auto: override where the plan's minimum edge TTL allows it")

    def max_age(self) -> int | None:
        found = MAX_AGE_RE.search(self.cache_control.lower())
        return int(found.group(1)) if found else None


DEFAULT_PUBLIC_PREFIXES = ("filer_public/", "filer_public_thumbnails/")
DEFAULT_MEDIA_HEADERS = (
    HeaderRule(match="filer_public_thumbnails/*", cache_control="public, max-age=31536000"),
    HeaderRule(match="*", cache_control="public, max-age=3600"),
)


class AwsMedia(Strict):
    region: str = "eu-central-1"
    bucket_name: BucketName | None = Field(default=None, description="default: named by Pulumi from the site")
    noncurrent_version_days: int = Field(default=30, ge=1, le=3650, description="Live: keep old versions this long")


class AzureMedia(Strict):
    resource_group: str | None = Field(default=None, description="existing group; default: create one")
    location: str = "westeurope"
    account_name: AccountName | None = Field(default=None, description="required: account names are global")
    soft_delete_days: int = Field(default=30, ge=1, le=365, description="Live: blob and container soft delete")


class MediaDomain(Strict):
    """A custom media host on the site's zone, routed to the bucket by Cloudflare Cloud Connector."""

    host: Host
    cache: bool = Field(default=True, description="false: the edge bypasses its cache for this host")


class MediaConfig(Strict):
    backend: Literal["aws", "azure"]
    aws: AwsMedia = AwsMedia()
    azure: AzureMedia = AzureMedia()
    public_prefixes: list[ObjectPrefix] = list(DEFAULT_PUBLIC_PREFIXES)
    headers: list[HeaderRule] = Field(default=list(DEFAULT_MEDIA_HEADERS), min_length=1)
    domain: MediaDomain | None = None


class CertificateConfig(Strict):
    """A certificate for some of the site's hosts (app or media). Hosts without one use Universal SSL."""

    name: Name
    mode: Literal["advanced", "uploaded", "origin_ca", "acm"]
    hosts: list[Host] = Field(min_length=1)
    certificate_authority: Literal["google", "lets_encrypt", "ssl_com"] = "lets_encrypt"
    validation_method: Literal["txt", "http", "email"] = "txt"
    validity_days: int | None = Field(default=None, description="advanced: 14/30/90/365; origin_ca: 7..5475")
    certificate: SecretStr | None = Field(default=None, description="uploaded: PEM, set with --secret")
    private_key: SecretStr | None = Field(default=None, description="uploaded: PEM, set with --secret")
    region: str = Field(default="us-east-1", description="acm: us-east-1 for CloudFront")


class StageHosts(Strict):
    """Another stage's hosts and cache policy, composed by the zone's owner stack."""

    hosts: list[Host] = Field(min_length=1)
    cache: CachePolicy = CachePolicy()
    media: MediaConfig | None = None


class Site(Strict):
    name: Name
    zone: str
    hosts: list[Host] = Field(min_length=1)
    origin: Host | None = Field(default=None, description="host name the app's DNS records point to (CNAME)")
    cache: CachePolicy = CachePolicy()
    images: list[ImageRule] = []
    media: MediaConfig | None = None
    certificates: list[CertificateConfig] = []
    other_stages: dict[Stage, StageHosts] = {}


class StackConfig(Strict):
    stage: Stage
    zones: dict[str, ZoneConfig] = Field(min_length=1)
    sites: list[Site] = Field(min_length=1)

    def owns(self, zone_name: str) -> bool:
        return self.zones[zone_name].owner == self.stage

    def site_named(self, name: str) -> Site | None:
        return next((s for s in self.sites if s.name == name), None)


@dataclass(frozen=True)
class Problem:
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class ConfigError(Exception):
    """Every problem found in a stack's config, reported together."""

    def __init__(self, problems: Iterable[Problem]):
        self.problems = sorted(set(problems), key=lambda p: (p.path, p.message))
        super().__init__(self.report())

    def report(self) -> str:
        lines = [f"invalid {NAMESPACE} config ({len(self.problems)} problem(s)):"]
        lines += [f"  {p}" for p in self.problems]
        return "\n".join(lines)


def _loc_path(loc: tuple) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif "[" in part or "(" in part:  # pydantic's names for union members and validators
            continue
        else:
            out += f".{part}" if out else str(part)
    return out


def _pydantic_problems(err: ValidationError) -> list[Problem]:
    problems = []
    for e in err.errors():
        loc = e["loc"]
        msg = e["msg"]
        if e["type"] == "extra_forbidden":
            msg = "unknown key"
        elif e["type"] == "literal_error":
            msg = f"{e['input']!r} is not allowed; {msg[len('Input should be '):]}" if msg.startswith(
                "Input should be ") else msg
        elif msg.startswith("Value error, "):
            msg = msg[len("Value error, "):]
        problems.append(Problem(_loc_path(loc), msg))
    return problems


def parse_stack_config(raw: Mapping[str, Any], stack_name: str, secret_keys: Iterable[str] = ()) -> StackConfig:
    """Validate the ``appcdn`` namespace (keys without the prefix) of stack ``stack_name``.

    ``secret_keys`` are the stack's secret config keys (``appcdn:sites`` when any value in it is secure).
    """
    data = dict(raw)
    if "stage" not in data and stack_name in STAGES:
        data["stage"] = stack_name
    try:
        config = StackConfig.model_validate(data)
    except ValidationError as err:
        raise ConfigError(_pydantic_problems(err)) from None
    problems = list(check_meaning(config))
    if f"{NAMESPACE}:sites" not in set(secret_keys):
        problems += [
            Problem(f"sites[{i}].certificates[{j}].{key}", f"must be a secret: pulumi config set --secret --path "
                                                          f"'{NAMESPACE}:sites[{i}].certificates[{j}].{key}' < file.pem")
            for i, site in enumerate(config.sites) for j, cert in enumerate(site.certificates)
            for key in ("certificate", "private_key") if getattr(cert, key) is not None]
    if problems:
        raise ConfigError(problems)
    return config


def media_hosts(media: "MediaConfig | None") -> list[str]:
    """The custom media domain of a stage, as a list of hosts (none when media is on the provider's endpoint)."""
    return [media.domain.host] if media is not None and media.domain is not None else []


def _duplicate_names(path: str, names: list[str], what: str) -> Iterable[Problem]:
    for i, name in enumerate(names):
        if names.count(name) > 1:
            yield Problem(f"{path}[{i}].name", f"{name!r} is used by more than one {what}")


def _in_zone(host: str, zone: str) -> bool:
    return host == zone or host.endswith("." + zone)


def _ttl_problems(path: str, rule: CacheRule, plan: PlanTier) -> Iterable[Problem]:
    minimum = MIN_EDGE_TTL[plan]
    edge = rule.edge_ttl
    if rule.action == "bypass":
        set_keys = [k for k in ("edge_ttl", "browser_ttl", "cache_key", "serve_stale", "origin_error_passthrough",
                                "respect_strong_etags") if getattr(rule, k) is not None]
        if set_keys:
            yield Problem(path, f"a bypass rule takes no cache settings; remove {', '.join(set_keys)}")
        return
    if edge is not None:
        if edge.mode == "override_origin":
            if edge.default is None:
                yield Problem(f"{path}.edge_ttl.default", "required when mode is override_origin")
            elif edge.default < minimum:
                yield Problem(f"{path}.edge_ttl.default",
                              f"{edge.default} s is below the {plan} plan's minimum edge TTL of {minimum} s")
        elif edge.default is not None:
            yield Problem(f"{path}.edge_ttl.default", f"only allowed with mode override_origin, not {edge.mode}")
        for j, sc in enumerate(edge.status_codes):
            sp = f"{path}.edge_ttl.status_codes[{j}]"
            if (sc.code is None) == (sc.from_ is None and sc.to is None):
                yield Problem(sp, "give either code, or from and/or to")
            elif sc.from_ is not None and sc.to is not None and sc.from_ > sc.to:
                yield Problem(sp, f"from {sc.from_} is above to {sc.to}")
            if sc.ttl > 0 and sc.ttl < minimum:
                yield Problem(f"{sp}.ttl", f"{sc.ttl} s is below the {plan} plan's minimum edge TTL of {minimum} s")
    browser = rule.browser_ttl
    if browser is not None:
        if browser.mode == "override_origin" and browser.default is None:
            yield Problem(f"{path}.browser_ttl.default", "required when mode is override_origin")
        elif browser.mode != "override_origin" and browser.default is not None:
            yield Problem(f"{path}.browser_ttl.default", f"only allowed with mode override_origin, not {browser.mode}")
    qs = rule.cache_key.query_string if rule.cache_key else None
    if qs is not None and (qs.include is None) == (qs.exclude is None):
        yield Problem(f"{path}.cache_key.query_string", "give exactly one of include or exclude")


def _match_problems(path: str, match: Match, site_hosts: list[str], plan: PlanTier) -> Iterable[Problem]:
    for h in match.hosts:
        if h not in site_hosts:
            yield Problem(f"{path}.hosts", f"{h!r} is not one of the site's hosts on this stage ({', '.join(site_hosts)})")
    if match.expression is not None and TIER_ORDER[plan] < TIER_ORDER["business"]:
        if "matches" in octorules_wirefilter.parse_expression(match.expression)["operators"]:
            yield Problem(f"{path}.expression", f"regex matching ('matches' / '~') needs the business plan or above; "
                                                f"the zone is on {plan}. Use path_prefixes or paths (wildcards)")


def _policy_problems(path: str, policy: CachePolicy, hosts: list[str], plan: PlanTier) -> Iterable[Problem]:
    yield from _duplicate_names(f"{path}.rules", [r.name for r in policy.rules], "rule")
    for i, rule in enumerate(policy.rules):
        rp = f"{path}.rules[{i}]"
        if rule.name in RESERVED_RULE_NAMES:
            yield Problem(f"{rp}.name", f"{rule.name!r} is reserved for the session bypass, which always comes last")
        yield from _ttl_problems(rp, rule, plan)
        yield from _match_problems(f"{rp}.match", rule.match, hosts, plan)


def check_meaning(config: StackConfig) -> Iterable[Problem]:
    """Cross-field rules: zones exist and are well formed, hosts sit in their zone, the tier allows the rules."""
    for zname, zone in config.zones.items():
        zp = f"zones.{zname}"
        if not HOST_RE.match(zname):
            yield Problem(zp, "zone names are apex domains such as example.com")
        if zone.id and zone.account_id:
            yield Problem(zp, "give id to use an existing zone or account_id to create one, not both")
        if zone.owner == config.stage and not zone.id and not zone.account_id:
            yield Problem(zp, f"this stack ({config.stage}) owns the zone: give id (existing zone) or account_id (create)")
        if zone.owner != config.stage:
            for key in ("settings", "images", "account_id"):
                if key in zone.model_fields_set:
                    yield Problem(f"{zp}.{key}", f"the zone is owned by the {zone.owner} stack; declare {key} there")
        img = zone.images
        if img.mirage is not None:
            yield Problem(f"{zp}.images.mirage",
                          "Mirage was retired by Cloudflare (deprecated November 2025, API end of life January 2026);"
                          " use polish, or image transformations with loading=\"lazy\" and srcset")
        if img.polish != "off" and TIER_ORDER[zone.plan] < TIER_ORDER["pro"]:
            yield Problem(f"{zp}.images.polish", f"Polish needs the pro plan or above; the zone is on {zone.plan}")
        if img.webp and img.polish == "off":
            yield Problem(f"{zp}.images.webp", "WebP needs Polish on (lossless or lossy)")

    yield from _duplicate_names("sites", [s.name for s in config.sites], "site")
    seen_hosts: dict[str, str] = {}
    for i, site in enumerate(config.sites):
        sp = f"sites[{i}]"
        zone = config.zones.get(site.zone)
        if zone is None:
            yield Problem(f"{sp}.zone", f"{site.zone!r} is not declared under zones ({', '.join(config.zones)})")
            continue
        owner = zone.owner == config.stage
        stage_hosts = {config.stage: (site.hosts, site.media)} | {
            st: (sh.hosts, sh.media) for st, sh in site.other_stages.items()}
        for stage, (app_hosts, media) in stage_hosts.items():
            hp = f"{sp}.hosts" if stage == config.stage else f"{sp}.other_stages.{stage}.hosts"
            for h in app_hosts + media_hosts(media):
                if h in app_hosts and not _in_zone(h, site.zone):
                    yield Problem(hp, f"{h!r} is outside the site's zone {site.zone}")
                if h in seen_hosts:
                    yield Problem(hp, f"{h!r} is already served by {seen_hosts[h]}")
                seen_hosts[h] = f"site {site.name} ({stage})"
        if config.stage in site.other_stages:
            yield Problem(f"{sp}.other_stages.{config.stage}", "this is the stack's own stage; use hosts and cache")
        if not owner:
            for key in ("cache", "images", "other_stages"):
                if key in site.model_fields_set:
                    yield Problem(f"{sp}.{key}", f"zone {site.zone} is owned by the {zone.owner} stack, which compiles "
                                                 f"its edge rules; declare this stage's {key} there under other_stages")
        yield from _policy_problems(f"{sp}.cache", site.cache, site.hosts, zone.plan)
        for stage, other in site.other_stages.items():
            yield from _policy_problems(f"{sp}.other_stages.{stage}.cache", other.cache, other.hosts, zone.plan)
        if site.media is not None:
            yield from _media_problems(f"{sp}.media", site.media, site, zone, False, zone.owner)
        for stage, other in site.other_stages.items():
            if other.media is not None:
                yield from _media_problems(f"{sp}.other_stages.{stage}.media", other.media, site, zone, True,
                                           zone.owner)
        yield from _certificate_problems(f"{sp}.certificates", site.certificates, site, zone)
        yield from _duplicate_names(f"{sp}.images", [r.name for r in site.images], "image rule")
        for j, rule in enumerate(site.images):
            ip = f"{sp}.images[{j}]"
            if rule.polish != "off" and TIER_ORDER[zone.plan] < TIER_ORDER["pro"]:
                yield Problem(f"{ip}.polish", f"Polish needs the pro plan or above; the zone is on {zone.plan}")
            yield from _match_problems(f"{ip}.match", rule.match, site.hosts, zone.plan)


EDGE_CERTIFICATE_MODES = ("advanced", "uploaded")  # served by Cloudflare; origin_ca and acm serve elsewhere
ADVANCED_VALIDITY = {"lets_encrypt": (90,), "google": (14, 30, 90), "ssl_com": (14, 30, 90, 365)}
ORIGIN_CA_VALIDITY = (7, 30, 90, 365, 730, 1095, 5475)
MAX_ADVANCED_HOSTS = 50


def glob_shadows(earlier: str, later: str) -> bool:
    """Whether every key ``later`` matches is matched by ``earlier`` (sufficient test for '*'-only globs)."""
    if earlier == later or earlier == "*":
        return True
    if earlier.endswith("*") and "*" not in earlier[:-1]:
        return later.startswith(earlier[:-1])
    return False


def _media_problems(path: str, media: MediaConfig, site: Site, zone: ZoneConfig, for_other_stage: bool,
                    owner_stage: Stage) -> Iterable[Problem]:
    if media.backend == "azure" and media.azure.account_name is None:
        yield Problem(f"{path}.azure.account_name", "required for the azure backend: storage account names are "
                                                    "global (3-24 lower-case letters and digits)")
    for j, rule in enumerate(media.headers):
        hp = f"{path}.headers[{j}]"
        for i, earlier in enumerate(media.headers[:j]):
            if glob_shadows(earlier.match, rule.match):
                yield Problem(f"{hp}.match", f"never applies: headers[{i}] ({earlier.match!r}) comes first and "
                                             f"matches every key this one does; the first match wins, so put the "
                                             f"narrower rule first")
                break
        max_age = rule.max_age()
        if max_age is None and rule.edge_ttl == "override":
            yield Problem(f"{hp}.cache_control", "edge_ttl override needs a max-age in cache_control")
        if max_age is not None and rule.edge_ttl == "override" and max_age < MIN_EDGE_TTL[zone.plan]:
            yield Problem(f"{hp}.edge_ttl", f"max-age {max_age} s is below the {zone.plan} plan's minimum edge TTL "
                                            f"of {MIN_EDGE_TTL[zone.plan]} s; use respect_origin or auto")
    for j, prefix in enumerate(media.public_prefixes):
        if media.public_prefixes.index(prefix) != j:
            yield Problem(f"{path}.public_prefixes[{j}]", f"{prefix!r} is listed twice")
    if media.domain is not None:
        if not _in_zone(media.domain.host, site.zone):
            yield Problem(f"{path}.domain.host", f"{media.domain.host!r} is outside the site's zone {site.zone}; a "
                                                 "custom media domain must be a host of that zone")
        if for_other_stage and media.backend == "aws" and media.aws.bucket_name is None:
            yield Problem(f"{path}.aws.bucket_name", f"required with a custom media domain here: the {owner_stage} "
                                                     "stack routes the domain to this bucket, so its name must be fixed")


def _certificate_problems(path: str, certs: list[CertificateConfig], site: Site, zone: ZoneConfig) -> Iterable[Problem]:
    own_hosts = list(site.hosts) + media_hosts(site.media)
    covered: dict[str, str] = {}
    yield from _duplicate_names(path, [c.name for c in certs], "certificate")
    for i, cert in enumerate(certs):
        cp = f"{path}[{i}]"
        for host in cert.hosts:
            if host not in own_hosts:
                yield Problem(f"{cp}.hosts", f"{host!r} is not one of the site's hosts on this stage "
                                             f"({', '.join(own_hosts)})")
            elif cert.mode in EDGE_CERTIFICATE_MODES:
                if host in covered and covered[host] != cert.name:
                    yield Problem(f"{cp}.hosts", f"{host!r} already has an edge certificate: {covered[host]!r}")
                covered.setdefault(host, cert.name)
        secrets_given = [k for k in ("certificate", "private_key") if getattr(cert, k) is not None]
        if cert.mode == "uploaded":
            if TIER_ORDER[zone.plan] < TIER_ORDER["business"]:
                yield Problem(f"{cp}.mode", f"uploaded certificates (custom SSL) need the business plan or above; "
                                            f"the zone is on {zone.plan}. Use advanced or the default Universal SSL")
            for key in ("certificate", "private_key"):
                if key not in secrets_given:
                    yield Problem(f"{cp}.{key}", "required for an uploaded certificate (PEM, set with --secret)")
        elif secrets_given:
            yield Problem(cp, f"{', '.join(secrets_given)} only for mode uploaded, not {cert.mode}")
        if cert.mode == "advanced":
            if len(cert.hosts) > MAX_ADVANCED_HOSTS:
                yield Problem(f"{cp}.hosts", f"an advanced certificate pack holds at most {MAX_ADVANCED_HOSTS} hosts")
            if site.zone not in cert.hosts:
                yield Problem(f"{cp}.hosts", f"an advanced certificate pack must include the zone apex {site.zone}")
            allowed = ADVANCED_VALIDITY[cert.certificate_authority]
            if cert.validity_days is not None and cert.validity_days not in allowed:
                yield Problem(f"{cp}.validity_days", f"{cert.certificate_authority} issues for "
                                                     f"{', '.join(map(str, allowed))} days")
        if cert.mode == "origin_ca":
            if zone.settings.ssl != "strict":
                yield Problem(f"{cp}.mode", "an Origin CA certificate is for SSL mode strict; the zone uses "
                                            f"{zone.settings.ssl}")
            if cert.validity_days is not None and cert.validity_days not in ORIGIN_CA_VALIDITY:
                yield Problem(f"{cp}.validity_days", f"Origin CA issues for {', '.join(map(str, ORIGIN_CA_VALIDITY))} days")
        if cert.mode == "acm" and cert.validity_days is not None:
            yield Problem(f"{cp}.validity_days", "ACM sets the validity itself")
