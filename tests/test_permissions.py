"""``appcdn permissions``: the Cloudflare token, the AWS IAM policy and the Azure roles a stack's deployer needs,
from what the stack declares. The policy passes parliament (an IAM linter nobody here wrote) and allows every AWS
operation the project's code made in this test session (tests/aws_calls.py records them against moto)."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from parliament import analyze_policy_string
from parliament import config as parliament_config

from appcdn.commands.permissions import AWS_OPERATIONS, report
from appcdn.media_sync.batch_job import HeadersJobProvider
from appcdn.program.stack_program import declare as declare_program
from appcdn.program.stack_program import export
from appcdn.rules.rulesets import compile_zones
from tests.aws_calls import RECORDED
from tests.conftest import appcdn, declare, project_dir, project_of, raw_config
from tests.test_media_headers_batch import FakeS3Control, control, deliver, props, reports  # noqa: F401 - fixtures

SEVERITIES = ["MUTE", "INFO", "LOW", "MEDIUM", "HIGH", "CRITICAL"]


def permissions_of(capsys: pytest.CaptureFixture[str], stack: str, cwd: Path | None = None) -> dict[str, Any]:
    code, out, err = appcdn(capsys, "permissions", "--stack", stack, "--json", **({"cwd": cwd} if cwd else {}))
    assert code == 0, err
    found: dict[str, Any] = json.loads(out)
    return found


def batch_stack() -> dict[str, Any]:
    """A live stack whose bucket's headers S3 Batch Operations sets (a Lambda function, two roles, a job)."""
    project = project_of(
        raw_config(media={"backend": "aws", "aws": {"bucket_name": "shop-media", "batch_operations": {}}})
    )
    declared = declare(lambda: export(declare_program(project, compile_zones(project))))
    return report("live", list(declared.values()), ["example.com"])


def above_low(policy: dict[str, Any]) -> list[str]:
    findings = analyze_policy_string(json.dumps(policy)).findings
    severity = {f.issue: parliament_config.get(f.issue, {}).get("severity", "HIGH") for f in findings}
    return [f"{f.issue} ({severity[f.issue]}): {f.detail}" for f in findings if SEVERITIES.index(severity[f.issue]) > 2]


def allows(policy: dict[str, Any], action: str) -> list[str]:
    """The resources of the statements that allow ``action``."""
    return [r for s in policy["Statement"] if action in s["Action"] for r in s["Resource"]]


def test_live_needs_these_cloudflare_permission_groups_on_its_zone(capsys: pytest.CaptureFixture[str]) -> None:
    cloudflare = permissions_of(capsys, "live")["cloudflare"]
    assert cloudflare["zones"] == ["example.com"]
    up = [(g["permission"], g["dashboard"], g["scope"]) for g in cloudflare["pulumi_up"]]
    assert cloudflare["types_not_covered"] == []
    assert sorted(up) == [
        ("API Tokens Write", "User → API Tokens → Edit", "user"),  # each site's purge-only token for the app
        ("Cache Purge", "Zone → Cache Purge → Purge", "zone"),  # the header reconcile purges what it changed
        ("Cache Settings Write", "Zone → Cache Rules → Edit", "zone"),
        ("Cloud Connector Write", "Zone → Cloud Connector → Edit", "zone"),
        ("Config Settings Write", "Zone → Config Rules → Edit", "zone"),
        ("DNS Write", "Zone → DNS → Edit", "zone"),
        ("SSL and Certificates Write", "Zone → SSL and Certificates → Edit", "zone"),
        ("Zone Read", "Zone → Zone → Read", "zone"),
        ("Zone Settings Write", "Zone → Zone Settings → Edit", "zone"),
    ]
    assert [g["permission"] for g in cloudflare["adopt"]] == [
        "Zone Read",
        "Cache Settings Read",
        "Config Settings Read",
        "DNS Read",
        "Cloud Connector Read",
        "Page Rules Read",
    ]  # adopt only reads
    assert [g["permission"] for g in cloudflare["purge"]] == ["Zone Read", "Cache Purge"]


def test_test_stack_declares_no_zone_rules_so_its_token_needs_no_rule_permissions(
    capsys: pytest.CaptureFixture[str],
) -> None:
    up = [g["permission"] for g in permissions_of(capsys, "test")["cloudflare"]["pulumi_up"]]
    assert up == ["Zone Read", "DNS Write", "Cache Purge"]


def test_live_s_iam_policy_is_scoped_to_its_bucket_and_cloudfront_certificates(
    capsys: pytest.CaptureFixture[str],
) -> None:
    aws = permissions_of(capsys, "live")["aws"]
    policy = aws["policy"]
    assert aws["types_not_covered"] == []
    bucket = "arn:aws:s3:::shop-live-media-bucket-*"  # Pulumi's auto-name: logical name, '-', a suffix
    assert allows(policy, "s3:PutBucketPolicy") == [bucket]
    assert allows(policy, "s3:PutObject") == [f"{bucket}/*"]
    assert allows(policy, "acm:DeleteCertificate") == ["arn:aws:acm:us-east-1:*:certificate/*"]
    assert allows(policy, "acm:RequestCertificate") == ["*"]
    assert {r for s in policy["Statement"] for r in s["Resource"]} == {
        bucket,
        f"{bucket}/*",
        "arn:aws:acm:us-east-1:*:certificate/*",
        "*",
    }
    assert not allows(policy, "s3:CreateJob") and not allows(policy, "iam:PassRole")  # no Batch Operations here


def test_the_batch_job_may_pass_only_its_own_role_to_s3_batch_operations() -> None:
    policy = batch_stack()["aws"]["policy"]
    [job] = [s for s in policy["Statement"] if s["Sid"] == "PassJobRole"]
    assert job["Resource"] == ["arn:aws:iam::*:role/shop-live-media-headers-job-role-*"]
    assert job["Condition"] == {"StringEquals": {"iam:PassedToService": "batchoperations.s3.amazonaws.com"}}
    [function] = [s for s in policy["Statement"] if s["Sid"] == "PassFunctionRole"]
    assert function["Resource"] == ["arn:aws:iam::*:role/shop-live-media-headers-function-role-*"]
    assert allows(policy, "s3:CreateJob") == ["*"]
    assert allows(policy, "s3:DescribeJob") == ["arn:aws:s3:*:*:job/*"]
    assert allows(policy, "lambda:UpdateFunctionCode") == [
        "arn:aws:lambda:*:*:function:shop-live-media-headers-function-*"
    ]
    assert "arn:aws:s3:::shop-media/*" in allows(policy, "s3:AbortMultipartUpload")  # the given bucket name
    assert batch_stack()["aws"]["types_not_covered"] == []


def test_live_needs_these_azure_roles(capsys: pytest.CaptureFixture[str]) -> None:
    assert permissions_of(capsys, "live")["azure"] == [
        {
            "role": "Contributor",
            "scope": "subscription",
            "for": "pulumi up: creates blog-live-media-group (not needed with media.azure.resource_group)",
        },
        {
            "role": "Storage Account Contributor",
            "scope": "resource group blog-live-media-group",
            "for": "pulumi up: storage account exampleblogmedia, its blob service and containers",
        },
        {
            "role": "Storage Blob Data Contributor",
            "scope": "storage account exampleblogmedia",
            "for": "the header reconcile (pulumi up, appcdn media sync-headers)",
        },
    ]


@pytest.mark.parametrize("stack", ["live", "test"])
def test_parliament_finds_nothing_above_low_in_the_shipped_stacks_policies(
    capsys: pytest.CaptureFixture[str], stack: str
) -> None:
    assert above_low(permissions_of(capsys, stack)["aws"]["policy"]) == []


def test_parliament_finds_nothing_above_low_in_a_batch_operations_policy() -> None:
    assert above_low(batch_stack()["aws"]["policy"]) == []


def test_the_text_form_says_the_same(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = appcdn(capsys, "permissions", "--stack", "live")
    assert code == 0
    assert "  pulumi up:\n    Zone → Zone → Read  (Zone Read; zone)\n" in out
    assert '"Sid": "ShopLiveMediaBucket"' in out
    assert "  Storage Blob Data Contributor at storage account exampleblogmedia" in out


def test_an_unknown_stack_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = appcdn(capsys, "permissions", "--stack", "nope", cwd=project_dir(tmp_path, live=raw_config()))
    assert code == 2 and "nope" in err


@pytest.mark.usefixtures("s3_env")
def test_every_aws_operation_the_code_made_is_allowed(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    reports: tuple[Any, str],  # noqa: F811 - the fixture imported above, by name
    control: FakeS3Control,  # noqa: F811 - the fixture imported above, by name
) -> None:
    """The header reconcile (the command, on moto) and the Batch Operations job's create and refresh run here, so
    that this test checks them on its own too; in the whole suite it checks every call recorded before it."""
    client, reports_bucket = reports
    bucket = f"media-{uuid.uuid4().hex[:12]}"
    client.create_bucket(Bucket=bucket)
    client.put_object(Bucket=bucket, Key="filer_public_thumbnails/a.jpg", Body=b"x")
    media = {"backend": "aws", "aws": {"region": "us-east-1", "bucket_name": bucket}}
    cwd = project_dir(tmp_path, live=raw_config(media=media))
    assert appcdn(capsys, "media", "sync-headers", "--stack", "live", "--site", "shop", cwd=cwd)[0] == 0
    deliver(client, reports_bucket, "2026-11-20T01-00Z")
    provider = HeadersJobProvider()
    outs = provider.create(props(reports_bucket)).outs
    assert outs is not None
    provider.read("id", outs)
    assert {"s3:ListObjectsV2", "s3:CopyObject", "s3control:CreateJob", "s3control:DescribeJob"} <= RECORDED

    policy = batch_stack()["aws"]["policy"]
    unmapped = sorted(RECORDED - set(AWS_OPERATIONS))
    assert unmapped == [], "add the IAM actions AWS documents for these to AWS_OPERATIONS"
    missing = {op: a for op in sorted(RECORDED) for a in AWS_OPERATIONS[op] if not allows(policy, a)}
    assert missing == {}
