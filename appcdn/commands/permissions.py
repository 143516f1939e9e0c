"""``appcdn permissions --stack NAME [--json]``: what deploying a stack needs, from what the stack declares.

The program runs under the mock engine (as ``appcdn plan``); each declared resource type names the Cloudflare
token permission groups, the AWS IAM actions and the Azure built-in roles that create, read, update and delete
it, scoped to the stack's zones, buckets, roles and functions where their names are known. appcdn's own calls
(the header reconcile and purges of the dynamic providers, the S3 Batch Operations job) are added from
AWS_OPERATIONS: each boto3 operation the code makes, with the IAM actions AWS documents for it
(tests/test_permissions.py records the operations by running the code against moto).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from appcdn.commands.plan.mock_engine import DeclaredResource

ZONE, ACCOUNT = "zone", "account"


@dataclass(frozen=True)
class TokenPermission:
    api_name: str
    """As the API's permission groups and Cloudflare's OpenAPI (x-api-token-group) name it."""
    dashboard: str
    """As the dashboard's token form shows it (scope → group → level)."""
    scope: str


def _zone(group: str, level: str) -> TokenPermission:
    return TokenPermission(f"{group} {'Write' if level == 'Edit' else level}", f"Zone → {group} → {level}", ZONE)


ZONE_READ = _zone("Zone", "Read")
CLOUDFLARE_UP: dict[str, list[TokenPermission]] = {
    "cloudflare:index/zone:Zone": [TokenPermission("Zone Write", "Zone → Zone → Edit", ACCOUNT)],
    "cloudflare:index/zoneSetting:ZoneSetting": [_zone("Zone Settings", "Edit")],
    "cloudflare:index/dnsRecord:DnsRecord": [_zone("DNS", "Edit")],
    "cloudflare:index/cloudConnectorRules:CloudConnectorRules": [_zone("Cloud Connector", "Edit")],
    "cloudflare:index/certificatePack:CertificatePack": [_zone("SSL and Certificates", "Edit")],
    "cloudflare:index/customSsl:CustomSsl": [_zone("SSL and Certificates", "Edit")],
    "cloudflare:index/originCaCertificate:OriginCaCertificate": [_zone("SSL and Certificates", "Edit")],
    # each Live site's purge-only token for the app (app.purge_token: false when the app brings its own)
    "cloudflare:index/apiToken:ApiToken": [TokenPermission("API Tokens Write", "User → API Tokens → Edit", "user")],
    # the header reconcile purges what it changed from the edge during `pulumi up`
    "pulumi-python:dynamic/appcdn:MediaHeaders": [TokenPermission("Cache Purge", "Zone → Cache Purge → Purge", ZONE)],
}
RULESET_PHASES = {
    "http_request_cache_settings": TokenPermission("Cache Settings Write", "Zone → Cache Rules → Edit", ZONE),
    "http_config_settings": TokenPermission("Config Settings Write", "Zone → Config Rules → Edit", ZONE),
}
CLOUDFLARE_ADOPT = [
    ZONE_READ,
    TokenPermission("Cache Settings Read", "Zone → Cache Rules → Read", ZONE),
    TokenPermission("Config Settings Read", "Zone → Config Rules → Read", ZONE),
    _zone("DNS", "Read"),
    _zone("Cloud Connector", "Read"),
    _zone("Page Rules", "Read"),
]
CLOUDFLARE_PURGE = [ZONE_READ, TokenPermission("Cache Purge", "Zone → Cache Purge → Purge", ZONE)]

S3_BUCKET_CRUD = [
    "s3:CreateBucket",
    "s3:DeleteBucket",
    "s3:ListBucket",
    "s3:GetBucketLocation",
    "s3:GetBucketTagging",
    "s3:PutBucketTagging",
    "s3:GetBucketAcl",
    "s3:GetBucketCORS",
    "s3:GetBucketWebsite",
    "s3:GetBucketVersioning",
    "s3:GetAccelerateConfiguration",
    "s3:GetBucketRequestPayment",
    "s3:GetBucketLogging",
    "s3:GetLifecycleConfiguration",
    "s3:GetReplicationConfiguration",
    "s3:GetEncryptionConfiguration",
    "s3:GetBucketObjectLockConfiguration",
    "s3:GetBucketPolicy",
]
S3_TYPES: dict[str, list[str]] = {
    "aws:s3/bucket:Bucket": S3_BUCKET_CRUD,
    "aws:s3/bucketPolicy:BucketPolicy": ["s3:GetBucketPolicy", "s3:PutBucketPolicy", "s3:DeleteBucketPolicy"],
    "aws:s3/bucketVersioning:BucketVersioning": ["s3:GetBucketVersioning", "s3:PutBucketVersioning"],
    "aws:s3/bucketCorsConfiguration:BucketCorsConfiguration": ["s3:GetBucketCORS", "s3:PutBucketCORS"],
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": [
        "s3:GetLifecycleConfiguration",
        "s3:PutLifecycleConfiguration",
    ],
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": [
        "s3:GetBucketOwnershipControls",
        "s3:PutBucketOwnershipControls",
    ],
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": [
        "s3:GetBucketPublicAccessBlock",
        "s3:PutBucketPublicAccessBlock",
    ],
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": [
        "s3:GetEncryptionConfiguration",
        "s3:PutEncryptionConfiguration",
    ],
    "aws:s3/inventory:Inventory": ["s3:GetInventoryConfiguration", "s3:PutInventoryConfiguration"],
}
"""Bucket-level types: their actions apply to the stack's buckets."""
NAMED_TYPES: dict[str, tuple[list[str], str]] = {
    "aws:iam/role:Role": (
        [
            "iam:CreateRole",
            "iam:GetRole",
            "iam:DeleteRole",
            "iam:TagRole",
            "iam:UntagRole",
            "iam:UpdateAssumeRolePolicy",
            "iam:ListRolePolicies",
            "iam:ListAttachedRolePolicies",
            "iam:ListInstanceProfilesForRole",
        ],
        "arn:aws:iam::*:role/{name}",
    ),
    "aws:iam/rolePolicy:RolePolicy": (
        ["iam:PutRolePolicy", "iam:GetRolePolicy", "iam:DeleteRolePolicy"],
        "arn:aws:iam::*:role/{role}",
    ),
    "aws:lambda/function:Function": (
        [
            "lambda:CreateFunction",
            "lambda:GetFunction",
            "lambda:GetFunctionCodeSigningConfig",
            "lambda:ListVersionsByFunction",
            "lambda:UpdateFunctionCode",
            "lambda:UpdateFunctionConfiguration",
            "lambda:DeleteFunction",
            "lambda:TagResource",
            "lambda:UntagResource",
            "lambda:ListTags",
        ],
        "arn:aws:lambda:*:*:function:{name}",
    ),
    "aws:cloudwatch/logGroup:LogGroup": (
        [
            "logs:CreateLogGroup",
            "logs:DeleteLogGroup",
            "logs:PutRetentionPolicy",
            "logs:ListTagsForResource",
            "logs:TagResource",
            "logs:UntagResource",
        ],
        "arn:aws:logs:*:*:log-group:{name}",
    ),
}
"""Types with their own ARN: {name} is the resource's name (given, or Pulumi's auto-name: logical name, '-',
a suffix), {role} the role a policy belongs to."""
AWS_OPERATIONS: dict[str, list[str]] = {
    # the header reconcile (appcdn.media_sync, appcdn.runtime.s3_objects) and the Batch Operations job
    "s3:ListObjectsV2": ["s3:ListBucket"],
    "s3:HeadBucket": ["s3:ListBucket"],
    "s3:GetBucketOwnershipControls": ["s3:GetBucketOwnershipControls"],
    "s3:GetObjectAcl": ["s3:GetObjectAcl"],
    "s3:HeadObject": ["s3:GetObject"],
    "s3:GetObject": ["s3:GetObject"],
    "s3:GetObjectTagging": ["s3:GetObjectTagging"],
    "s3:CopyObject": ["s3:GetObject", "s3:PutObject", "s3:GetObjectTagging", "s3:PutObjectTagging"],
    "s3:CreateMultipartUpload": ["s3:PutObject"],
    "s3:UploadPartCopy": ["s3:GetObject", "s3:PutObject"],
    "s3:CompleteMultipartUpload": ["s3:PutObject"],
    "s3:AbortMultipartUpload": ["s3:AbortMultipartUpload"],
    "s3control:CreateJob": ["s3:CreateJob", "iam:PassRole"],
    "s3control:DescribeJob": ["s3:DescribeJob"],
}
MEDIA_HEADERS = "pulumi-python:dynamic/appcdn:MediaHeaders"
HEADERS_JOB = "pulumi-python:dynamic/appcdn:HeadersJob"
BATCH_SERVICE, LAMBDA = "batchoperations.s3.amazonaws.com", "lambda.amazonaws.com"
CLOUDFRONT_CERTIFICATES = "arn:aws:acm:us-east-1:*:certificate/*"  # CloudFront takes them from us-east-1 only
RECONCILE_ACTIONS = {a for op, actions in AWS_OPERATIONS.items() if op.startswith("s3:") for a in actions}
BUCKET_ACTIONS = sorted(RECONCILE_ACTIONS & {"s3:ListBucket", "s3:GetBucketOwnershipControls"})
OBJECT_ACTIONS = sorted(RECONCILE_ACTIONS - set(BUCKET_ACTIONS))


def _physical(resource: DeclaredResource, key: str = "name") -> str:
    """The name the stack gives, else Pulumi's auto-name: the logical name, '-' and a random suffix."""
    given = resource.inputs.get(key)
    return given if isinstance(given, str) and given else f"{resource.name}-*"


def _refers_to(value: Any, resource: DeclaredResource, key: str = "name") -> bool:
    """Whether an input names ``resource``: by its physical name, or as the mock engine gives its outputs (the
    logical name as its name, the logical name + '-id' as its id)."""
    return value in (_physical(resource, key), resource.name, f"{resource.name}-id")


def _statement(sid: str, actions: list[str], resources: list[str], **condition: Any) -> dict[str, Any]:
    found = {"Sid": sid, "Effect": "Allow", "Action": sorted(set(actions)), "Resource": sorted(resources)}
    return {**found, "Condition": condition} if condition else found


def _bucket_statements(aws: list[DeclaredResource], headers: list[DeclaredResource]) -> list[dict[str, Any]]:
    statements = []
    for bucket in sorted((r for r in aws if r.type == "aws:s3/bucket:Bucket"), key=lambda r: r.name):
        arn = f"arn:aws:s3:::{_physical(bucket, 'bucket')}"
        parts = [
            r
            for r in aws
            if r.type in S3_TYPES and (r is bucket or _refers_to(r.inputs.get("bucket"), bucket, "bucket"))
        ]
        sid = "".join(word.capitalize() for word in bucket.name.split("-") if word.isalnum())
        actions, objects = [a for r in parts for a in S3_TYPES[r.type]], list[str]()
        if any(_refers_to(h.inputs.get("bucket"), bucket, "bucket") for h in headers):
            # the header reconcile (appcdn.media_sync), during `pulumi up` and by hand
            actions, objects = actions + BUCKET_ACTIONS, objects + OBJECT_ACTIONS
        statements.append(_statement(sid, actions, [arn]))
        if any(r.type == "aws:s3/bucketPolicy:BucketPolicy" for r in parts):
            # held anyway by whoever may set the bucket policy (parliament: RESOURCE_POLICY_PRIVILEGE_ESCALATION);
            # listed so that the document does not look narrower than it is
            objects += ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
        if objects:
            statements.append(_statement(f"{sid}Objects", objects, [f"{arn}/*"]))
    return statements


def aws_policy(resources: list[DeclaredResource]) -> dict[str, Any]:
    """An IAM policy document: the provider-managed types' actions on the stack's own resources, the header
    reconcile's on its media buckets' objects, and the Batch Operations job's."""
    aws = [r for r in resources if r.type.startswith("aws:")]
    headers = [r for r in resources if r.type in (MEDIA_HEADERS, HEADERS_JOB)]
    statements = _bucket_statements(aws, headers)
    roles = {r.name: r for r in aws if r.type == "aws:iam/role:Role"}
    for type_, (actions, template) in NAMED_TYPES.items():
        arns = set()
        for r in (r for r in aws if r.type == type_):
            role = next((role for role in roles.values() if _refers_to(r.inputs.get("role"), role)), None)
            arns.add(template.format(name=_physical(r), role=_physical(role) if role else "*"))
        if arns:
            statements.append(_statement(type_.rsplit(":", 1)[1] + "s", actions, list(arns)))
    for suffix, service, sid in (
        ("-job-role", BATCH_SERVICE, "PassJobRole"),
        ("-function-role", LAMBDA, "PassFunctionRole"),
    ):
        passed = [f"arn:aws:iam::*:role/{_physical(r)}" for name, r in roles.items() if name.endswith(suffix)]
        if passed:
            statements.append(_statement(sid, ["iam:PassRole"], passed, StringEquals={"iam:PassedToService": service}))
    if any(r.type == HEADERS_JOB for r in resources):
        statements.append(_statement("BatchJob", ["s3:CreateJob"], ["*"]))  # CreateJob has no resource to scope to
        statements.append(_statement("BatchJobStatus", ["s3:DescribeJob"], ["arn:aws:s3:*:*:job/*"]))
    if any(r.type.startswith("aws:acm/") for r in aws):
        statements.append(_statement("RequestCertificates", ["acm:RequestCertificate"], ["*"]))  # no resource yet
        certificate_actions = [
            "acm:DescribeCertificate",
            "acm:ListTagsForCertificate",
            "acm:AddTagsToCertificate",
            "acm:RemoveTagsFromCertificate",
            "acm:DeleteCertificate",
        ]
        statements.append(_statement("Certificates", certificate_actions, [CLOUDFRONT_CERTIFICATES]))
    return {"Version": "2012-10-17", "Statement": statements}


def aws_not_covered(resources: list[DeclaredResource]) -> list[str]:
    """Declared AWS types this command has no actions for (printed, never dropped silently)."""
    known = {
        *S3_TYPES,
        *NAMED_TYPES,
        "aws:acm/certificate:Certificate",
        "aws:acm/certificateValidation:CertificateValidation",
    }
    return sorted({r.type for r in resources if r.type.startswith("aws:") and r.type not in known})


def _groups(found: list[TokenPermission]) -> list[dict[str, str]]:
    return [{"permission": p.api_name, "dashboard": p.dashboard, "scope": p.scope} for p in dict.fromkeys(found)]


def cloudflare_token(resources: list[DeclaredResource], zones: list[str]) -> dict[str, Any]:
    up = [ZONE_READ]
    for resource in resources:
        up += CLOUDFLARE_UP.get(resource.type, [])
        if resource.type == "cloudflare:index/ruleset:Ruleset":
            up.append(RULESET_PHASES[resource.inputs["phase"]])
    known = {*CLOUDFLARE_UP, "cloudflare:index/ruleset:Ruleset"}
    return {
        "zones": zones,
        "types_not_covered": sorted({r.type for r in resources if r.type.startswith("cloudflare:")} - known),
        "pulumi_up": _groups(up),
        "adopt": _groups(CLOUDFLARE_ADOPT),
        "purge": _groups(CLOUDFLARE_PURGE),
    }


def azure_roles(resources: list[DeclaredResource]) -> list[dict[str, str]]:
    """Built-in roles: management of the storage accounts at their resource group (and of the group itself at the
    subscription when the stack creates it); the header reconcile's blob access at each account (with Microsoft
    Entra credentials; an account key or connection string needs no role, and is not least privilege)."""
    roles = []
    if any(r.type == "azure-native:resources:ResourceGroup" for r in resources):
        groups = sorted(r.name for r in resources if r.type == "azure-native:resources:ResourceGroup")
        roles.append(
            {
                "role": "Contributor",
                "scope": "subscription",
                "for": f"pulumi up: creates {', '.join(groups)} (not needed with media.azure.resource_group)",
            }
        )
    accounts = sorted(
        (str(r.inputs.get("resourceGroupName")), str(r.inputs.get("accountName")))
        for r in resources
        if r.type == "azure-native:storage:StorageAccount"
    )
    for group, account in accounts:
        roles.append(
            {
                "role": "Storage Account Contributor",
                "scope": f"resource group {group}",
                "for": f"pulumi up: storage account {account}, its blob service and containers",
            }
        )
        roles.append(
            {
                "role": "Storage Blob Data Contributor",
                "scope": f"storage account {account}",
                "for": "the header reconcile (pulumi up, appcdn media sync-headers)",
            }
        )
    return roles


def report(stack: str, resources: list[DeclaredResource], zones: list[str]) -> dict[str, Any]:
    return {
        "stack": stack,
        "cloudflare": cloudflare_token(resources, zones),
        "aws": {"policy": aws_policy(resources), "types_not_covered": aws_not_covered(resources)},
        "azure": azure_roles(resources),
    }


def text(found: dict[str, Any]) -> str:
    cf = found["cloudflare"]
    lines = [
        f"Stack {found['stack']}: what a deployer needs.",
        "",
        f"Cloudflare API token, zones {', '.join(cf['zones'])}:",
    ]
    if cf["types_not_covered"]:
        lines.append("  not covered below (add their groups by hand): " + ", ".join(cf["types_not_covered"]))
    for key, title in (("pulumi_up", "pulumi up"), ("adopt", "appcdn adopt"), ("purge", "appcdn media purge")):
        lines.append(f"  {title}:")
        lines += [f"    {g['dashboard']}  ({g['permission']}; {g['scope']})" for g in cf[key]]
    lines += [
        "",
        "AWS IAM policy (pulumi up and appcdn media sync-headers):",
        json.dumps(found["aws"]["policy"], indent=2),
    ]
    if found["aws"]["types_not_covered"]:
        lines.append("  not covered above (add their actions by hand): " + ", ".join(found["aws"]["types_not_covered"]))
    lines += ["", "Azure built-in roles:"]
    lines += [f"  {r['role']} at {r['scope']} ({r['for']})" for r in found["azure"]] or ["  none"]
    return "\n".join(lines)


def permissions(project_dir: Path, stack: str, as_json: bool) -> int:
    from appcdn.commands.cli import EXIT_INVALID, planned_stack

    stack_plan = planned_stack(project_dir, stack, "permissions")
    if stack_plan is None:
        return EXIT_INVALID
    project, _, planned = stack_plan
    zones = [z for z in project.zones_in_use() if project.owns(z)] or list(project.zones_in_use())
    found = report(stack, planned.resources, zones)
    print(json.dumps(found, indent=2, sort_keys=True) if as_json else text(found))
    return 0
