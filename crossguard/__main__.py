"""The appcdn policy pack: ``pulumi preview --policy-pack policy`` (from the project root).

Every policy is mandatory. The checks are the pure functions of ``appcdn_policies`` beside this file; this
module only adapts the policy API to them: it turns the engine's properties into plain data (a value unknown
during preview becomes ``appcdn_policies.UNKNOWN``, whose check is skipped until ``pulumi up``) and reports
each reason a check returns.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import appcdn_policies as checks
from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    PolicyPack,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UnknownValueError

ResourceCheck = Callable[[str, Mapping[str, Any], bool, Mapping[str, Any]], list[str]]
StackCheck = Callable[[Sequence[checks.Resource]], "list[checks.StackViolation] | None"]


def plain(value: Any) -> Any:
    """The engine's property proxies as plain dicts and lists; unknown values as ``checks.UNKNOWN``."""
    if isinstance(value, Mapping):
        items = {}
        for key in value:
            try:
                items[key] = plain(value[key])
            except UnknownValueError:
                items[key] = checks.UNKNOWN
        return items
    if isinstance(value, Sequence) and not isinstance(value, str):
        elements = []
        for index in range(len(value)):
            try:
                elements.append(plain(value[index]))
            except UnknownValueError:
                elements.append(checks.UNKNOWN)
        return elements
    return value


def stack_resources(args: StackValidationArgs) -> list[checks.Resource]:
    """The stack's resources as the stack checks take them (parent and dependencies by urn)."""
    return [
        checks.Resource(
            type=r.resource_type,
            urn=r.urn,
            props=plain(r.props),
            protect=bool(r.opts.protect),
            parent=r.parent.urn if r.parent is not None else None,
            dependencies=frozenset(d.urn for d in r.dependencies)
            | frozenset(d.urn for deps in r.property_dependencies.values() for d in deps),
        )
        for r in args.resources
    ]


def resource_policy(
    name: str, description: str, check: ResourceCheck, config_schema: PolicyConfigSchema | None = None
) -> ResourceValidationPolicy:
    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        for reason in check(args.resource_type, plain(args.props), bool(args.opts.protect), args.get_config()):
            report_violation(reason, None)

    return ResourceValidationPolicy(
        name=name,
        description=description,
        validate=validate,
        enforcement_level=EnforcementLevel.MANDATORY,
        config_schema=config_schema,
    )


def stack_policy(name: str, description: str, check: StackCheck, not_applicable: str = "") -> StackValidationPolicy:
    def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
        violations = check(stack_resources(args))
        if violations is None:
            args.not_applicable(not_applicable)
        for urn, reason in violations or []:
            report_violation(reason, urn)

    return StackValidationPolicy(
        name=name, description=description, validate=validate, enforcement_level=EnforcementLevel.MANDATORY
    )


PLANS = list(checks.RULES_PER_PHASE)

POLICIES = [
    resource_policy(
        "app-cache-rules-keep-sessions-private",
        "No app-host cache rule caches requests with a session cookie or Authorization, and no rule comes after "
        "the safety bypasses on their hosts.",
        lambda t, props, protect, config: checks.cache_rule_violations(t, props),
    ),
    resource_policy(
        "media-storage-private",
        "Media storage is never publicly writable or listable (anyone may only s3:GetObject; Azure containers None "
        "or Blob), is HTTPS-only with TLS 1.2+, and is protected on Live.",
        lambda t, props, protect, config: checks.media_storage_violations(t, props, protect),
    ),
    stack_policy(
        "media-storage-guarded",
        "Every S3 media bucket has a public access block; every container of a Live storage account is protected.",
        checks.media_stack_violations,
    ),
    resource_policy(
        "ssl-strict-tls-1-2",
        "Zone setting ssl is strict and min_tls_version is 1.2 or 1.3.",
        lambda t, props, protect, config: checks.tls_violations(t, props),
    ),
    stack_policy(
        "zone-tls-settings-managed",
        "A stack that manages a zone's settings or rulesets also manages its ssl and min_tls_version.",
        checks.zone_tls_stack_violations,
    ),
    resource_policy(
        "no-mirage",
        "Mirage (retired by Cloudflare) is not turned on by a zone setting, a configuration rule or a page rule.",
        lambda t, props, protect, config: checks.mirage_violations(t, props),
    ),
    resource_policy(
        "rule-counts-within-plan",
        "A zone's phase rulesets and Cloud Connector rules stay within its Cloudflare plan's rules per phase "
        f"(plan from this policy's config; default {checks.DEFAULT_PLAN}, the absolute cap).",
        lambda t, props, protect, config: checks.rule_count_violations(t, props, config),
        PolicyConfigSchema(
            properties={
                "plan": {
                    "type": "string",
                    "enum": PLANS,
                    "default": checks.DEFAULT_PLAN,
                    "description": "plan of every zone not in zone_plans",
                },
                "zone_plans": {
                    "type": "object",
                    "additionalProperties": {"type": "string", "enum": PLANS},
                    "default": {},
                    "description": "zone id -> plan",
                },
            }
        ),
    ),
    resource_policy(
        "app-token-purge-only",
        "A Cloudflare API token the stack declares (the app's, exported in sites.<name>.app_env) can only purge its "
        "zone's cache: one policy allowing the Cache Purge permission group on one zone.",
        lambda t, props, protect, config: checks.api_token_violations(t, props),
    ),
    stack_policy(
        "shared-app-cache",
        "No site's exported app environment (sites.<name>.app_env.CACHE_URL) uses a per-container cache: "
        "db:// or redis[s]:// only.",
        checks.app_cache_stack_violations,
        not_applicable="the engine showed no pulumi:pulumi:Stack resource, so the stack's outputs cannot be read",
    ),
]

PolicyPack(name="appcdn", policies=POLICIES, enforcement_level=EnforcementLevel.MANDATORY)
