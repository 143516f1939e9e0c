"""``S3HeadersBatch``: S3's own bulk engine for the header reconcile of a very large media bucket.

An S3 Inventory report of the bucket (in a private reports bucket) is the manifest; a Lambda function runs the
same per-object reconcile as ``appcdn media sync-headers`` (``appcdn.runtime.batch_lambda``); an S3 Batch
Operations job (``HeadersJob``, a dynamic resource) invokes it on every object whenever the rules change.
Each role may do only its part: S3 Inventory writes only into the reports bucket's inventory prefix, the
Lambda only reads and rewrites the media bucket's objects, the job only reads the manifest, invokes the Lambda
and writes its report.
"""

import json
from collections.abc import Mapping, Sequence
from typing import Any, NotRequired, TypedDict

import pulumi
import pulumi.dynamic
import pulumi_aws as aws

from appcdn import defaults
from appcdn.components.s3_media import bucket_guards
from appcdn.media_sync.batch_job import INVENTORY_PREFIX, REPORT_PREFIX, HeadersJobProvider
from appcdn.rules.media import assume_role_policy, batch_job_policy, reconcile_lambda_policy, reports_bucket_policy
from appcdn.runtime import batch_lambda

INVENTORY_ID = "appcdn-headers"
HOLDS_TAG, HOLDS_REPORTS = "appcdn-holds", "reports"
"""How the policy pack (``crossguard/``) knows this bucket needs no Live protection: S3 makes its content again."""


class S3HeadersBatchArgs(TypedDict):
    bucket: pulumi.Input[str]
    """The media bucket's name."""
    bucket_arn: pulumi.Input[str]
    """The media bucket's ARN."""
    region: str
    """The media bucket's region (the job, the function and the reports live there too)."""
    rules: Sequence[Mapping[str, Any]]
    """The ordered header rules (first match wins), as config gives them."""
    inventory_frequency: str
    """Daily | Weekly."""
    rerun: int
    """A change starts a new job with the same rules."""
    tags: Mapping[str, str]
    """Tags of the tagged children."""
    multipart_threshold: NotRequired[int]
    """Objects larger than this (bytes) are copied part by part; default 5 GiB (``CopyObject``'s limit)."""


class HeadersJob(pulumi.dynamic.Resource, module="appcdn", name="HeadersJob"):
    """An S3 Batch Operations job invoking the reconcile function over the newest inventory; a new one whenever
    the rules change (``appcdn.media_sync.batch_job``)."""

    job_id: pulumi.Output[str | None]
    """The last job created; none until S3 Inventory has delivered a first report."""
    status: pulumi.Output[str]

    def __init__(self, name: str, props: Mapping[str, Any], opts: pulumi.ResourceOptions | None = None):
        super().__init__(HeadersJobProvider(), name, {"job_id": None, "manifest": None, "status": None, **props}, opts)


class S3HeadersBatch(pulumi.ComponentResource):
    """Reports bucket, S3 Inventory of the media bucket, reconcile function and its role, the job's role, and the
    job itself."""

    reports_bucket: aws.s3.Bucket
    """Inventory reports and the jobs' completion reports (expired after 30 days)."""
    function: aws.lambda_.Function
    """The per-object reconcile."""
    job_id: pulumi.Output[str]
    """The job of the current rules; empty until S3 Inventory has delivered a first report."""
    job_status: pulumi.Output[str]
    """What ``up`` did: the job it created and where its report goes, or what it waits for."""

    def __init__(self, name: str, args: S3HeadersBatchArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("appcdn:index:S3HeadersBatch", name, {}, opts)
        region, tags = args["region"], dict(args["tags"])
        child = pulumi.ResourceOptions(parent=self)
        account_id = aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(parent=self)).account_id

        reports = aws.s3.Bucket(
            f"{name}-reports", region=region, force_destroy=True, tags={**tags, HOLDS_TAG: HOLDS_REPORTS}, opts=child
        )
        self.reports_bucket = reports
        guards = bucket_guards(f"{name}-reports", reports, region, False, child)
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-reports-encryption",
            bucket=reports.id,
            region=region,
            rules=[{"apply_server_side_encryption_by_default": {"sse_algorithm": defaults.S3_ENCRYPTION}}],
            opts=child,
        )
        aws.s3.BucketLifecycleConfiguration(
            f"{name}-reports-lifecycle",
            bucket=reports.id,
            region=region,
            rules=[
                {
                    "id": "expire-reports",
                    "status": "Enabled",
                    "filter": {},
                    "expiration": {"days": defaults.BATCH_REPORTS_DAYS},
                }
            ],
            opts=child,
        )
        reports_policy = aws.s3.BucketPolicy(
            f"{name}-reports-policy",
            bucket=reports.id,
            region=region,
            policy=pulumi.Output.all(reports.arn, args["bucket_arn"], account_id).apply(
                lambda v: json.dumps(reports_bucket_policy(v[0], INVENTORY_PREFIX, v[1], v[2]))
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=guards),
        )
        aws.s3.Inventory(
            f"{name}-inventory",
            bucket=args["bucket"],
            region=region,
            name=INVENTORY_ID,
            enabled=True,
            included_object_versions="Current",
            schedule={"frequency": args["inventory_frequency"]},
            destination={
                "bucket": {
                    "bucket_arn": reports.arn,
                    "format": "CSV",
                    "prefix": INVENTORY_PREFIX,
                    "encryption": {"sse_s3": {}},
                }
            },
            opts=pulumi.ResourceOptions(parent=self, depends_on=[reports_policy]),
        )

        function_role = aws.iam.Role(
            f"{name}-function-role",
            assume_role_policy=json.dumps(assume_role_policy("lambda.amazonaws.com")),
            tags=tags,
            opts=child,
        )
        logs = aws.cloudwatch.LogGroup(
            f"{name}-logs", region=region, retention_in_days=defaults.LOG_RETENTION_DAYS, tags=tags, opts=child
        )
        function_policy = aws.iam.RolePolicy(
            f"{name}-function-policy",
            role=function_role.id,
            policy=pulumi.Output.all(args["bucket_arn"], logs.arn).apply(
                lambda v: json.dumps(reconcile_lambda_policy(v[0], v[1]))
            ),
            opts=child,
        )
        self.function = aws.lambda_.Function(
            f"{name}-function",
            region=region,
            role=function_role.arn,
            runtime=defaults.BATCH_LAMBDA_RUNTIME,
            handler=batch_lambda.HANDLER,
            architectures=["arm64"],
            timeout=defaults.BATCH_LAMBDA_TIMEOUT,
            memory_size=defaults.BATCH_LAMBDA_MEMORY,
            code=pulumi.FileArchive(str(batch_lambda.function_archive())),
            environment={
                "variables": {
                    batch_lambda.RULES_VARIABLE: json.dumps(list(map(dict, args["rules"]))),
                    **(
                        {batch_lambda.THRESHOLD_VARIABLE: str(args["multipart_threshold"])}
                        if "multipart_threshold" in args
                        else {}
                    ),
                }
            },
            logging_config={"log_format": "Text", "log_group": logs.name},
            tags=tags,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[function_policy]),
        )

        job_role = aws.iam.Role(
            f"{name}-job-role",
            assume_role_policy=json.dumps(assume_role_policy("batchoperations.s3.amazonaws.com")),
            tags=tags,
            opts=child,
        )
        job_policy = aws.iam.RolePolicy(
            f"{name}-job-policy",
            role=job_role.id,
            policy=pulumi.Output.all(reports.arn, self.function.arn).apply(
                lambda v: json.dumps(batch_job_policy(v[0], INVENTORY_PREFIX, REPORT_PREFIX, v[1]))
            ),
            opts=child,
        )
        job = HeadersJob(
            f"{name}-job",
            {
                "bucket": args["bucket"],
                "region": region,
                "reports_bucket": reports.bucket,
                "inventory_id": INVENTORY_ID,
                "function_arn": self.function.arn,
                "role_arn": job_role.arn,
                "priority": defaults.BATCH_JOB_PRIORITY,
                "rules": [dict(r) for r in args["rules"]],
                "rerun": args["rerun"],
            },
            pulumi.ResourceOptions(parent=self, depends_on=[job_policy]),
        )
        self.job_id = job.job_id.apply(lambda job_id: job_id or "")
        self.job_status = job.status
        self.register_outputs({"job_id": self.job_id, "job_status": self.job_status})
