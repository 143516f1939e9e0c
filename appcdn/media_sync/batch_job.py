"""The header reconcile of a very large bucket by S3 itself: during ``pulumi up``, a Pulumi dynamic provider
creates an S3 Batch Operations job that invokes the reconcile Lambda (``batch_lambda``) on every object of the
bucket's newest S3 Inventory report, whenever the header rules change.

A Copy job would be one request per object too, but it applies *one* metadata set to every object and so
erases per-object Content-Type and user metadata; the Lambda reads each object and carries them over.
The job runs on its own (hours for tens of millions of objects): ``up`` returns once it is created, with its
id; failed tasks land in the completion report in the reports bucket. Until S3 Inventory has delivered a first
report (within 48 hours of its configuration) there is no manifest: the resource records that, and every
later preview shows it as a change until an ``up`` finds a report and creates the job.

https://docs.aws.amazon.com/AmazonS3/latest/userguide/batch-ops-create-job.html
https://docs.aws.amazon.com/AmazonS3/latest/userguide/storage-inventory-location.html
https://docs.aws.amazon.com/AmazonS3/latest/API/API_control_CreateJob.html
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Mapping
from typing import Any

from pulumi.dynamic import CreateResult, DiffResult, ReadResult, ResourceProvider, UpdateResult

INVENTORY_PREFIX = "inventory"
"""Where S3 Inventory writes in the reports bucket: ``inventory/<bucket>/<inventory id>/<date>/manifest.json``."""
REPORT_PREFIX = "batch-reports"
MANIFEST_FORMAT = "S3InventoryReport_CSV_20161130"
DELIVERY_FOLDER = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}-\d{2}Z/")
JOB_INPUTS = ("bucket", "rules", "function_arn", "rerun")
"""A change of these needs a new job (the role and the priority apply to the next one)."""
ROLE_ATTEMPTS = 6
"""A role made moments ago may not be assumable yet (IAM is eventually consistent): CreateJob is retried."""
WAITING = "waiting for the first S3 Inventory report (delivered within 48 hours of its configuration)"


def newest_manifest(s3: Any, reports_bucket: str, bucket: str, inventory_id: str) -> tuple[str, str] | None:
    """(key, ETag without quotes) of the newest delivered ``manifest.json``, or ``None`` before the first one.

    A delivery's folder may exist before its manifest is written (the manifest comes last): such a folder is
    passed over for the one before it."""
    prefix = f"{INVENTORY_PREFIX}/{bucket}/{inventory_id}/"
    folders = [
        common["Prefix"]
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=reports_bucket, Prefix=prefix, Delimiter="/")
        for common in page.get("CommonPrefixes", [])
        if DELIVERY_FOLDER.fullmatch(common["Prefix"][len(prefix) :])
    ]
    from botocore.exceptions import ClientError

    for folder in sorted(folders, reverse=True):
        key = folder + "manifest.json"
        try:
            etag: str = s3.head_object(Bucket=reports_bucket, Key=key)["ETag"]
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") not in ("404", "NoSuchKey"):
                raise
            continue
        return key, etag.strip('"')
    return None


def account_of(arn: str) -> str:
    """The account id of an ARN (``arn:aws:iam::123456789012:role/x``)."""
    return arn.split(":")[4]


def job_request(props: Mapping[str, Any], manifest: tuple[str, str], previous_job: str | None) -> dict[str, Any]:
    """The ``CreateJob`` parameters: the Lambda on every object of the manifest, failures reported.

    The client token makes the request idempotent: an ``up`` retried after a failure creates no second job.
    It includes the job before this one, so going back to earlier rules (A → B → A) is a new job, not the
    first one handed back."""
    key, etag = manifest
    reports_arn = f"arn:aws:s3:::{props['reports_bucket']}"
    rules = json.dumps(props["rules"], sort_keys=True)
    token = hashlib.sha256(
        "\n".join(
            [props["bucket"], rules, props["function_arn"], etag, str(props.get("rerun")), previous_job or ""]
        ).encode()
    ).hexdigest()
    return {
        "AccountId": account_of(props["role_arn"]),
        "ConfirmationRequired": False,
        "Operation": {"LambdaInvoke": {"FunctionArn": props["function_arn"], "InvocationSchemaVersion": "2.0"}},
        "Report": {
            "Bucket": reports_arn,
            "Prefix": REPORT_PREFIX,
            "Format": "Report_CSV_20180820",
            "Enabled": True,
            "ReportScope": "FailedTasksOnly",
        },
        "ClientRequestToken": token[:64],
        "Manifest": {
            "Spec": {"Format": MANIFEST_FORMAT},
            "Location": {"ObjectArn": f"{reports_arn}/{key}", "ETag": etag},
        },
        "Priority": int(props["priority"]),
        "RoleArn": props["role_arn"],
        "Description": f"appcdn media headers of s3://{props['bucket']}"[:256],
    }


def _create_job(control: Any, request: dict[str, Any]) -> str:
    from botocore.exceptions import ClientError

    for attempt in range(ROLE_ATTEMPTS - 1):
        try:
            return str(control.create_job(**request)["JobId"])
        except ClientError as error:
            if "role" not in str(error.response.get("Error", {}).get("Message", "")).lower():
                raise
            time.sleep(2**attempt)
    return str(control.create_job(**request)["JobId"])


class HeadersJobProvider(ResourceProvider):
    """Creates a job on create and whenever the rules, the bucket or the function change; deleting the resource
    leaves any job and every object as they are."""

    def _start(self, props: Mapping[str, Any], previous_job: str | None = None) -> dict[str, Any]:
        import boto3

        session = boto3.session.Session()
        manifest = newest_manifest(
            session.client("s3", region_name=props["region"]),
            props["reports_bucket"],
            props["bucket"],
            props["inventory_id"],
        )
        if manifest is None:
            return {**props, "job_id": None, "manifest": None, "status": WAITING}
        control = session.client("s3control", region_name=props["region"])
        job_id = _create_job(control, job_request(props, manifest, previous_job))
        return {
            **props,
            "job_id": job_id,
            "manifest": f"s3://{props['reports_bucket']}/{manifest[0]}",
            "status": f"job {job_id} created; failed tasks are reported under "
            f"s3://{props['reports_bucket']}/{REPORT_PREFIX}/",
        }

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        changed = [k for k in JOB_INPUTS if olds.get(k) != news.get(k)]
        return DiffResult(
            changes=bool(changed) or not olds.get("job_id"), replaces=[], stables=[], delete_before_replace=False
        )

    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult(id_=f"s3-batch:{props['bucket']}", outs=self._start(props))

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(outs=self._start(news, olds.get("job_id")))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        """``pulumi refresh``: the job's state and progress as S3 reports them (``DescribeJob``)."""
        if not props.get("job_id"):
            return ReadResult(id_, props)
        import boto3

        control = boto3.session.Session().client("s3control", region_name=props["region"])
        job = control.describe_job(AccountId=account_of(props["role_arn"]), JobId=props["job_id"])["Job"]
        progress = job.get("ProgressSummary", {})
        status = (
            f"job {props['job_id']} {job['Status']}: {progress.get('NumberOfTasksSucceeded', 0)} succeeded, "
            f"{progress.get('NumberOfTasksFailed', 0)} failed of {progress.get('TotalNumberOfTasks', '?')}"
        )
        return ReadResult(id_, {**props, "status": status})

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        """A running job goes on (cancel it in the S3 console); objects keep the headers they have."""
