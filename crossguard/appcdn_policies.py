"""appcdn's guardrails as pure functions over what the Pulumi engine shows a policy pack.

A resource check takes a resource's type and its properties (and, where the policy API gives it, whether the
resource is ``protect``ed) and returns the reasons it violates the policy, an empty list when it complies.
A stack check takes every resource of the stack and returns ``(urn, reason)`` pairs. ``__main__.py`` beside
this file wires them into the ``PolicyPack``; tests call them directly with the props of the shipped stacks.

Properties are the engine's wire form, the form ``appcdn plan --json`` prints: provider property names in
camelCase (``actionParameters``, ``settingId``, ``publicAccess``), at every depth. Resource policies see a
resource's inputs; stack policies see every resource's outputs (for these resources, its inputs and what the
provider computed). A value the engine does not know yet (during preview, e.g. a bucket policy that embeds a
new bucket's ARN) arrives as ``UNKNOWN`` and its check is skipped: ``pulumi up`` registers a resource only
once its inputs are known, so every check runs there.

This module imports nothing but the standard library, so that the pack runs (and can be published) without
appcdn installed; ``SAFETY_RULE_NAMES`` and ``RULES_PER_PHASE`` are appcdn's own values, held equal by the
tests.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any


class _Unknown:
    """A value the engine does not know yet (preview)."""

    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN: Any = _Unknown()

SAFETY_RULE_NAMES = ("admin", "cms-edit", "cms-wizard", "methods", "session", "authorization", "test-stage")
"""appcdn.defaults.SAFETY_RULE_NAMES: the bypasses appcdn emits after every user rule of a site."""

RULES_PER_PHASE = {"free": 10, "pro": 25, "business": 50, "enterprise": 300}
"""appcdn.config.plans.RULES_PER_PHASE: rules per zone and phase on each Cloudflare plan."""

DEFAULT_PLAN = "enterprise"
"""Plan assumed for a zone the pack's config does not name: the largest limit, which no ruleset may exceed."""

CACHE_PHASE = "http_request_cache_settings"
CONFIG_PHASE = "http_config_settings"

RULESET = "cloudflare:index/ruleset:Ruleset"
ZONE_SETTING = "cloudflare:index/zoneSetting:ZoneSetting"
PAGE_RULE = "cloudflare:index/pageRule:PageRule"
CLOUD_CONNECTOR_RULES = "cloudflare:index/cloudConnectorRules:CloudConnectorRules"
S3_BUCKETS = ("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2")
S3_BUCKET_ACLS = ("aws:s3/bucketAcl:BucketAcl", "aws:s3/bucketAclV2:BucketAclV2")
S3_BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
S3_PUBLIC_ACCESS_BLOCK = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
AZURE_ACCOUNT = "azure-native:storage:StorageAccount"
AZURE_CONTAINER = "azure-native:storage:BlobContainer"
AZURE_GROUP = "azure-native:resources:ResourceGroup"
STACK = "pulumi:pulumi:Stack"

STAGE_TAG = "appcdn-stage"
LIVE = "live"
HOLDS_TAG = "appcdn-holds"
HOLDS_REPORTS = "reports"
"""A bucket tagged ``appcdn-holds: reports`` keeps only what S3 makes again (inventory and Batch Operations
reports): it needs no Live protection."""


@dataclass(frozen=True)
class Resource:
    """One resource of the stack as a stack policy sees it."""

    type: str
    urn: str
    props: Mapping[str, Any]
    protect: bool = False
    parent: str | None = None
    """The parent's urn."""
    dependencies: frozenset[str] = field(default_factory=frozenset)
    """The urns of the resources any of its properties depend on."""


StackViolation = tuple[str | None, str]
"""(urn of the offending resource, or None for the stack; reason)."""


def _known(value: Any) -> bool:
    return value is not UNKNOWN


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _tags(props: Mapping[str, Any]) -> Mapping[str, Any]:
    tags = props.get("tags")
    return tags if isinstance(tags, Mapping) else _mapping(props.get("tagsAll"))


def _is_live(props: Mapping[str, Any]) -> bool:
    return _tags(props).get(STAGE_TAG) == LIVE


# --- 1. App-host cache rules: the safety bypasses hold ------------------------------------------------------

_OR = (" or ", "||")
_AND = (" and ", "&&")
_HOST_FIELD = r"(?:lower\(\s*http\.host\s*\)|http\.host)"
_QUOTED = r'"(?:[^"\\]|\\.)*"'
_HOST_EQ = re.compile(rf"^{_HOST_FIELD}\s+(?:eq|==)\s+({_QUOTED})$")
_HOST_IN = re.compile(rf"^{_HOST_FIELD}\s+in\s+\{{((?:\s*{_QUOTED})*)\s*\}}$")
_STRING = re.compile(_QUOTED)
_MEDIA_RULE = re.compile(r"^media-(?:bypass|\d+)$")


def _unquoted(expression: str) -> Iterator[tuple[int, str]]:
    """Each character of ``expression`` that stands outside string literals, with its index."""
    i, in_string = 0, False
    while i < len(expression):
        char = expression[i]
        if in_string:
            if char == "\\":
                i += 2
                continue
            in_string = char != '"'
        elif char == '"':
            in_string = True
        else:
            yield i, char
        i += 1


def _split_top(expression: str, operators: Sequence[str]) -> list[str]:
    """``expression`` split at ``operators`` that stand outside strings, parentheses and braces."""
    parts, depth, start = [], 0, 0
    for i, char in _unquoted(expression):
        if i < start:  # inside the operator just split at
            continue
        if char in "({[":
            depth += 1
        elif char in ")}]":
            depth -= 1
        elif depth == 0 and (op := next((o for o in operators if expression.startswith(o, i)), None)):
            parts.append(expression[start:i])
            start = i + len(op)
    parts.append(expression[start:])
    return [p.strip() for p in parts]


def _unwrap(expression: str) -> str:
    """``expression`` without parentheses that enclose all of it."""
    expression = expression.strip()
    while expression.startswith("(") and expression.endswith(")") and _balanced(expression[1:-1]):
        expression = expression[1:-1].strip()
    return expression


def _balanced(expression: str) -> bool:
    """Whether every parenthesis outside strings closes in ``expression`` without going below zero."""
    depth = 0
    for _, char in _unquoted(expression):
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth < 0:
                return False
    return depth == 0


def _literal(quoted: str) -> str:
    return re.sub(r"\\(.)", r"\1", quoted[1:-1]).lower()


def expression_hosts(expression: Any) -> frozenset[str] | None:
    """The hosts a rules expression can match, or None when it may match any host.

    Sound for any expression: a disjunct narrows to hosts only through a conjunct that is exactly
    ``lower(http.host) eq "…"`` / ``in {…}`` (or the same on ``http.host``); anything else that reads
    ``http.host`` (negated, ``ends_with``, ``xor``) leaves the disjunct open to every host."""
    if not isinstance(expression, str):
        return None
    expression = _unwrap(expression)
    disjuncts = _split_top(expression, _OR)
    if len(disjuncts) > 1:
        hosts: set[str] = set()
        for disjunct in disjuncts:
            part = expression_hosts(disjunct)
            if part is None:
                return None
            hosts |= part
        return frozenset(hosts)
    narrowed: frozenset[str] | None = None
    for conjunct in _split_top(expression, _AND):
        conjunct = _unwrap(conjunct)
        if len(_split_top(conjunct, _OR)) > 1:
            part = expression_hosts(conjunct)
        elif match := _HOST_EQ.match(conjunct):
            part = frozenset({_literal(match.group(1))})
        elif match := _HOST_IN.match(conjunct):
            part = frozenset(_literal(s) for s in _STRING.findall(match.group(1)))
        else:
            part = None
        if part is not None:
            narrowed = part if narrowed is None else narrowed & part
    return narrowed


@dataclass(frozen=True)
class PhaseRule:
    """One rule of a phase ruleset as appcdn emits it: its appcdn names (``site/stage/rule``) come from
    its description (``appcdn: shop/live/admin, shop/live/session, …``; several when rules were merged)."""

    position: int
    ref: str
    names: tuple[str, ...]
    hosts: frozenset[str] | None
    settings: Mapping[str, Any]
    enabled: bool

    @property
    def label(self) -> str:
        return f"rule {self.position} ({self.ref})" if self.ref else f"rule {self.position}"

    @property
    def bypasses_only(self) -> bool:
        """Whether the rule does nothing but bypass the cache."""
        return dict(self.settings) == {"cache": False}

    def named(self, kinds: Iterable[str]) -> list[str]:
        return [n for n in self.names if _rule_kind(n) in kinds]


def _rule_kind(name: str) -> str:
    return name.rsplit("/", 1)[-1]


def _site_stage(name: str) -> str:
    return name.rsplit("/", 1)[0]


def _names(description: Any) -> tuple[str, ...]:
    if not isinstance(description, str) or not description.startswith("appcdn: "):
        return ()
    return tuple(n.strip() for n in description[len("appcdn: ") :].split(",") if n.strip().count("/") == 2)


def phase_rules(rules: Sequence[Any]) -> list[PhaseRule]:
    """The rules of a ``rules`` property, with their names and the hosts they can match."""
    parsed = []
    for position, rule in enumerate(rules):
        rule = _mapping(rule)
        settings = rule.get("actionParameters")
        parsed.append(
            PhaseRule(
                position,
                str(rule.get("ref") or ""),
                _names(rule.get("description")),
                expression_hosts(rule.get("expression")),
                settings if isinstance(settings, Mapping) else {},
                rule.get("enabled") is not False,
            )
        )
    return parsed


def _overlap(a: frozenset[str] | None, b: frozenset[str] | None) -> bool:
    return a is None or b is None or bool(a & b)


def _shared(a: frozenset[str] | None, b: frozenset[str] | None) -> frozenset[str] | None:
    if a is None:
        return b
    return a if b is None else a & b


def _describe(hosts: frozenset[str] | None) -> str:
    return "every host" if hosts is None else ", ".join(sorted(hosts))


def cache_rule_violations(resource_type: str, props: Mapping[str, Any]) -> list[str]:
    """No app-host cache rule caches requests with session cookies or ``Authorization``, and no user rule
    comes after the safety bypasses.

    Cloudflare applies every matching cache rule in order and a later rule's setting wins, so on an
    ``http_request_cache_settings`` ruleset: every rule holding a safety bypass (one of
    ``SAFETY_RULE_NAMES``, merged rules hold several) is enabled and only bypasses; no rule after it that can
    match one of its hosts changes anything; every site/stage named in the ruleset has an enabled
    ``session`` and ``authorization`` bypass; and every rule that caches app requests stays on hosts those
    bypasses cover (rules that merge media rules are left to the order check: their hosts mix media hosts,
    which have no session bypass, with app hosts)."""
    if resource_type != RULESET or props.get("phase") != CACHE_PHASE:
        return []
    rules = props.get("rules")
    if not isinstance(rules, Sequence) or isinstance(rules, str):
        return []
    parsed = phase_rules(rules)
    problems = []
    for rule in parsed:
        safety = rule.named(SAFETY_RULE_NAMES)
        if not safety:
            continue
        if not rule.enabled or not rule.bypasses_only:
            problems.append(
                f"{rule.label} holds the safety bypasses {', '.join(safety)} but "
                f"{'is disabled' if not rule.enabled else 'does more than bypass the cache'}: it must "
                "be enabled and set only cache: false"
            )
        for later in parsed[rule.position + 1 :]:
            if later.enabled and not later.bypasses_only and _overlap(rule.hosts, later.hosts):
                what = ", ".join(later.names) or "a rule appcdn did not name"
                problems.append(
                    f"{later.label} ({what}) comes after the safety bypass {rule.label} ({', '.join(safety)}) and can "
                    f"match its hosts ({_describe(_shared(rule.hosts, later.hosts))}): Cloudflare applies the last "
                    "matching rule, so it would override the bypass; safety bypasses must come after every other "
                    "rule on their hosts"
                )

    site_stages = sorted({_site_stage(n) for r in parsed for n in r.names if not _MEDIA_RULE.match(_rule_kind(n))})
    bypass_hosts: dict[tuple[str, str], list[frozenset[str] | None]] = {}
    for rule in parsed:
        if rule.enabled and rule.bypasses_only:
            for name in rule.named(("session", "authorization")):
                bypass_hosts.setdefault((_site_stage(name), _rule_kind(name)), []).append(rule.hosts)
    for site_stage in site_stages:
        for kind, what in (("session", "a session cookie"), ("authorization", "an Authorization header")):
            if (site_stage, kind) not in bypass_hosts:
                problems.append(
                    f"{site_stage} has no enabled {kind} bypass (a rule named {site_stage}/{kind} that sets "
                    f"only cache: false): requests with {what} could be cached and served to others"
                )

    for rule in parsed:
        if (
            not rule.enabled
            or rule.settings.get("cache") is not True
            or any(_MEDIA_RULE.match(_rule_kind(n)) for n in rule.names)
        ):
            continue
        owners = sorted({_site_stage(n) for n in rule.names}) or site_stages
        for kind in ("session", "authorization"):
            bypassed = [hosts for owner in owners for hosts in bypass_hosts.get((owner, kind), [])]
            if not bypassed or None in bypassed:  # no bypass: reported above; a bypass on every host covers all
                continue
            covered = {host for hosts in bypassed if hosts is not None for host in hosts}
            uncovered = None if rule.hosts is None else rule.hosts - covered
            if uncovered is None or uncovered:
                problems.append(
                    f"{rule.label} ({', '.join(rule.names) or 'a rule appcdn did not name'}) caches on "
                    f"{_describe(uncovered)}, where no {kind} bypass of {', '.join(owners)} applies"
                )
    return problems


# --- 2. Media storage: private, never publicly writable or listable; Live protected -------------------------

PUBLIC_CANNED_ACLS = ("public-read", "public-read-write", "authenticated-read")
PUBLIC_GRANTEES = (
    "http://acs.amazonaws.com/groups/global/AllUsers",
    "http://acs.amazonaws.com/groups/global/AuthenticatedUsers",
)
PUBLIC_ACTIONS = ("s3:getobject",)
AZURE_PUBLIC_ACCESS = ("None", "Blob")
AZURE_TLS = ("TLS1_2", "TLS1_3")


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, Sequence) and not isinstance(value, str) else [value]


def _public_principal(principal: Any) -> bool:
    if principal == "*":
        return True
    if isinstance(principal, Mapping):
        return any("*" in _as_list(v) for v in principal.values())
    return "*" in _as_list(principal)


def bucket_policy_violations(policy: Any) -> list[str]:
    """Statements that allow anyone anything but ``s3:GetObject``."""
    if not _known(policy):
        return []
    try:
        document = json.loads(policy) if isinstance(policy, str) else policy
    except ValueError:
        return ["the bucket policy is not valid JSON"]
    problems = []
    for index, statement in enumerate(_as_list(_mapping(document).get("Statement"))):
        statement = _mapping(statement)
        if statement.get("Effect") != "Allow":
            continue
        sid = statement.get("Sid") or f"statement {index}"
        if "NotPrincipal" in statement or "NotAction" in statement:
            problems.append(f"{sid}: an Allow with NotPrincipal or NotAction can grant anyone anything")
        elif _public_principal(statement.get("Principal")):
            actions = sorted({str(a).lower() for a in _as_list(statement.get("Action"))} - set(PUBLIC_ACTIONS))
            if actions:
                problems.append(
                    f"{sid} allows anyone {', '.join(actions)}: public access is s3:GetObject only "
                    "(no listing, no writing)"
                )
    return problems


def media_storage_violations(resource_type: str, props: Mapping[str, Any], protect: bool = False) -> list[str]:
    """Media storage is never publicly writable or listable, is reached over TLS 1.2+, and is protected on
    Live (tag ``appcdn-stage: live``): S3 bucket policies allow anyone ``s3:GetObject`` only, no public
    ACL, public access blocks block ACLs; Azure accounts HTTPS-only with TLS 1.2+, containers ``None`` or
    ``Blob`` (never ``Container``, which lists)."""
    problems = []
    live_unprotected = _is_live(props) and not protect
    if resource_type in S3_BUCKETS:
        live_unprotected = live_unprotected and _tags(props).get(HOLDS_TAG) != HOLDS_REPORTS
        if props.get("acl") in PUBLIC_CANNED_ACLS:
            problems.append(
                f"the bucket's ACL {props['acl']} opens it to everyone; use a bucket policy that allows "
                "s3:GetObject on the public prefixes"
            )
        if props.get("policy"):
            problems += bucket_policy_violations(props["policy"])
        if live_unprotected:
            problems.append(
                "a Live media bucket must be protected (protect=True): deleting it deletes the site's uploads"
            )
    elif resource_type in S3_BUCKET_ACLS:
        acl = props.get("acl")
        grants = _mapping(props.get("accessControlPolicy")).get("grants")
        uris = {str(_mapping(_mapping(g).get("grantee")).get("uri")) for g in _as_list(grants)}
        if acl in PUBLIC_CANNED_ACLS or uris & set(PUBLIC_GRANTEES):
            problems.append(
                "the bucket ACL grants access to everyone; public media is read through the bucket policy only"
            )
    elif resource_type == S3_BUCKET_POLICY:
        problems += bucket_policy_violations(props.get("policy"))
    elif resource_type == S3_PUBLIC_ACCESS_BLOCK:
        for flag in ("blockPublicAcls", "ignorePublicAcls"):
            if props.get(flag) is not True:
                problems.append(f"{flag} must be true: no ACL may make media public or writable")
    elif resource_type == AZURE_ACCOUNT:
        if props.get("enableHttpsTrafficOnly") is not True:
            problems.append("enableHttpsTrafficOnly must be true")
        tls = props.get("minimumTlsVersion")
        if _known(tls) and tls not in AZURE_TLS:
            problems.append(f"minimumTlsVersion must be TLS1_2 or above, not {tls}")
        if live_unprotected:
            problems.append("a Live media storage account must be protected (protect=True)")
    elif resource_type == AZURE_CONTAINER:
        access = props.get("publicAccess") or "None"
        if _known(access) and access not in AZURE_PUBLIC_ACCESS:
            problems.append(
                f"publicAccess {access} lets anyone list the container; use None, or Blob for public "
                "media (read by name only)"
            )
    elif resource_type == AZURE_GROUP and live_unprotected:
        problems.append(
            "a Live media resource group must be protected (protect=True): deleting it deletes the "
            "storage account in it"
        )
    return problems


def _belongs(child: Resource, owner: Resource, key: str, owner_keys: Sequence[str]) -> bool:
    """Whether ``child`` refers to ``owner``: through a dependency, by the value of ``key``, or (when neither
    is known, as in an offline plan) as its sibling in the same component."""
    if owner.urn in child.dependencies:
        return True
    value = child.props.get(key)
    if isinstance(value, str) and any(value == owner.props.get(k) for k in owner_keys):
        return True
    return not child.dependencies and child.parent is not None and child.parent == owner.parent


def media_stack_violations(resources: Sequence[Resource]) -> list[StackViolation]:
    """What no single resource shows: every S3 bucket has a public access block; every container of a Live
    storage account is protected."""
    problems: list[StackViolation] = []
    blocks = [r for r in resources if r.type == S3_PUBLIC_ACCESS_BLOCK]
    for bucket in (r for r in resources if r.type in S3_BUCKETS):
        if not any(_belongs(block, bucket, "bucket", ("bucket", "id")) for block in blocks):
            problems.append(
                (
                    bucket.urn,
                    "the bucket has no public access block (BucketPublicAccessBlock): nothing "
                    "stops a public ACL or policy added later",
                )
            )
    live_accounts = [r for r in resources if r.type == AZURE_ACCOUNT and _is_live(r.props)]
    for container in (r for r in resources if r.type == AZURE_CONTAINER and not r.protect):
        if any(_belongs(container, account, "accountName", ("accountName", "name")) for account in live_accounts):
            problems.append(
                (
                    container.urn,
                    "a container of a Live media storage account must be protected "
                    "(protect=True): deleting it deletes the site's uploads",
                )
            )
    return problems


# --- 3. SSL strict, TLS 1.2 and above -----------------------------------------------------------------------

SSL_MODES = ("strict",)
MIN_TLS_VERSIONS = ("1.2", "1.3")
REQUIRED_ZONE_SETTINGS = ("ssl", "min_tls_version")


def tls_violations(resource_type: str, props: Mapping[str, Any]) -> list[str]:
    """A zone's ``ssl`` setting is ``strict`` (the origin's certificate is verified) and its
    ``min_tls_version`` is 1.2 or 1.3."""
    if resource_type != ZONE_SETTING:
        return []
    setting, value = props.get("settingId"), props.get("value")
    if not _known(value):
        return []
    if setting == "ssl" and value not in SSL_MODES:
        return [
            f"ssl is {value}: it must be strict (Full strict), so that Cloudflare verifies the origin's certificate"
        ]
    if setting == "min_tls_version" and str(value) not in MIN_TLS_VERSIONS:
        return [f"min_tls_version is {value}: it must be 1.2 or 1.3"]
    return []


def zone_tls_stack_violations(resources: Sequence[Resource]) -> list[StackViolation]:
    """A stack that manages a zone's settings or cache rules manages its ``ssl`` and ``min_tls_version`` too:
    left alone, they keep whatever the zone had (Flexible SSL, TLS 1.0 are Cloudflare's old defaults)."""
    managed: dict[str, set[str]] = {}
    first: dict[str, Resource] = {}
    for r in resources:
        if r.type not in (ZONE_SETTING, RULESET) or (r.type == RULESET and r.props.get("kind") != "zone"):
            continue
        zone_id = r.props.get("zoneId")
        key = zone_id if isinstance(zone_id, str) else f"parent {r.parent}"
        first.setdefault(key, r)
        settings = managed.setdefault(key, set())
        if r.type == ZONE_SETTING:
            settings.add(str(r.props.get("settingId")))
    return [
        (first[key].urn, f"zone {key} is managed here without its {', '.join(missing)} setting")
        for key, settings in managed.items()
        if (missing := [s for s in REQUIRED_ZONE_SETTINGS if s not in settings])
    ]


# --- 4. No Mirage -------------------------------------------------------------------------------------------


def _on(value: Any) -> bool:
    return value is True or value == "on"


def mirage_violations(resource_type: str, props: Mapping[str, Any]) -> list[str]:
    """Mirage is retired by Cloudflare: no zone setting, configuration rule or page rule turns it on."""
    message = (
        "turns Mirage on; Cloudflare retired it (API end of life January 2026): use Polish or image "
        'transformations with loading="lazy" / srcset'
    )
    if resource_type == ZONE_SETTING and props.get("settingId") == "mirage" and _on(props.get("value")):
        return [f"the zone setting {message}"]
    if resource_type == PAGE_RULE and _on(_mapping(props.get("actions")).get("mirage")):
        return [f"the page rule {message}"]
    if resource_type == RULESET:
        return [
            f"{rule.label} {message}"
            for rule in phase_rules(_as_list(props.get("rules")))
            if _on(rule.settings.get("mirage"))
        ]
    return []


# --- 5. Rule counts within the zone's plan ------------------------------------------------------------------


def plan_of(zone_id: Any, config: Mapping[str, Any]) -> str:
    """The zone's plan from the pack's config: ``zone_plans`` (zone id → plan), else ``plan``, else
    ``DEFAULT_PLAN``."""
    plans = _mapping(config.get("zone_plans"))
    plan = plans.get(zone_id) if isinstance(zone_id, str) else None
    return str(plan or config.get("plan") or DEFAULT_PLAN)


def rule_count_violations(resource_type: str, props: Mapping[str, Any], config: Mapping[str, Any]) -> list[str]:
    """A zone's phase ruleset (cache, configuration, …) and its Cloud Connector rules stay within the plan's
    rules per zone and phase."""
    if resource_type == RULESET and props.get("kind") == "zone":
        what = f"the {props.get('phase')} ruleset"
    elif resource_type == CLOUD_CONNECTOR_RULES:
        what = "the Cloud Connector rules"
    else:
        return []
    rules = props.get("rules")
    if not _known(rules):
        return []
    plan = plan_of(props.get("zoneId"), config)
    if plan not in RULES_PER_PHASE:
        return [f"the pack's config names the plan {plan!r}; use one of {', '.join(RULES_PER_PHASE)}"]
    count, limit = len(_as_list(rules)), RULES_PER_PHASE[plan]
    if count > limit:
        return [f"{what} has {count} rules; the {plan} plan allows {limit} per zone and phase"]
    return []


# --- 6. The app's cache is shared -----------------------------------------------------------------------

SHARED_CACHE_SCHEMES = ("db", "redis", "rediss")
LOCAL_CACHE_SCHEMES = ("locmem", "locmemcache", "file", "filecache")


def app_cache_violations(outputs: Mapping[str, Any]) -> list[str]:
    """No site's exported app environment (stack output ``sites.<name>.app_env``) points its Django cache at
    a per-container store: ``CACHE_URL`` is ``db://…`` or ``redis[s]://…``. The URL (a secret: it may hold a
    password) is never repeated, only its scheme."""
    problems = []
    for site, exports in sorted(_mapping(outputs.get("sites")).items()):
        url = _mapping(_mapping(exports).get("app_env")).get("CACHE_URL")
        if not isinstance(url, str) or not url:
            continue
        scheme = url.split("://", 1)[0].lower() if "://" in url else ""
        if scheme in SHARED_CACHE_SCHEMES:
            continue
        if scheme in LOCAL_CACHE_SCHEMES:
            problems.append(
                f"sites.{site}.app_env.CACHE_URL is a {scheme}:// cache, local to one container; the app "
                "runs in several containers in parallel: use the database cache or Redis"
            )
        else:
            problems.append(
                f"sites.{site}.app_env.CACHE_URL has the scheme {scheme or '(none)'!r}, not a shared "
                "cache: use db://<table> or rediss://…"
            )
    return problems


def app_cache_stack_violations(resources: Sequence[Resource]) -> list[StackViolation] | None:
    """``app_cache_violations`` of the stack's outputs, which the engine shows a stack policy as the outputs of
    the root ``pulumi:pulumi:Stack`` resource; None when the stack resource is not among the resources."""
    stacks = [r for r in resources if r.type == STACK]
    if not stacks:
        return None
    return [(stack.urn, problem) for stack in stacks for problem in app_cache_violations(stack.props)]


API_TOKENS = ("cloudflare:index/apiToken:ApiToken", "cloudflare:index/accountToken:AccountToken")
CACHE_PURGE_PERMISSION_GROUP = "e17beae8b8cb423a99b1730f21238bed"
"""Cloudflare's permission group "Cache Purge" (scope ``com.cloudflare.api.account.zone``)."""
_ONE_ZONE = re.compile(r"^com\.cloudflare\.api\.account\.zone\.[0-9a-f]{32}$")


def api_token_violations(resource_type: str, props: Mapping[str, Any]) -> list[str]:
    """A Cloudflare API token the stack declares is the app's purge token (``sites.<name>.app_env``), and can do
    nothing but purge one zone: one policy, allow, the Cache Purge permission group alone, one zone's resources."""
    if resource_type not in API_TOKENS:
        return []
    policies = _as_list(props.get("policies"))
    problems = []
    if len(policies) != 1:
        problems.append(f"the token has {len(policies)} policies; an app token has one: allow Cache Purge on its zone")
    for i, policy in enumerate(policies):
        policy = _mapping(policy)
        if policy.get("effect") != "allow":
            problems.append(f"policies[{i}].effect is {policy.get('effect')!r}; an app token's policy allows")
        groups = [_mapping(group).get("id") for group in _as_list(policy.get("permissionGroups"))]
        if groups != [CACHE_PURGE_PERMISSION_GROUP]:
            problems.append(
                f"policies[{i}] grants the permission groups {groups}; an app token gets Cache Purge "
                f"({CACHE_PURGE_PERMISSION_GROUP}) alone"
            )
        scope = policy.get("resources")
        if not _known(scope):
            continue  # the zone is created in this update: its id is known at `up`, where this runs again
        try:
            parsed = json.loads(scope) if isinstance(scope, str) else scope
        except ValueError:
            parsed = None
        zones = list(_mapping(parsed))
        if len(zones) != 1 or not _ONE_ZONE.match(zones[0]) or _mapping(parsed)[zones[0]] != "*":
            problems.append(
                f"policies[{i}].resources covers {zones or scope!r}; an app token covers one zone "
                "(com.cloudflare.api.account.zone.<zone id>)"
            )
    return problems
