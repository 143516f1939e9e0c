"""S3's bulk engine for the header reconcile (``media.aws.batch_operations``): what the program declares under
the mock engine, and the job's provider against moto's S3 server (the inventory manifest) and a loopback S3
Control endpoint answering ``CreateJob`` in its documented REST-XML shape, reached through an HTTP proxy as
botocore reaches ``<account>.s3-control.<region>.amazonaws.com``."""

from __future__ import annotations

import json
import threading
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3
import pytest
from pulumi.dynamic import CreateResult, ReadResult, UpdateResult

from appcdn.commands.plan.mock_engine import run_program
from appcdn.media_sync.batch_job import WAITING, HeadersJobProvider, newest_manifest
from appcdn.program.stack_program import declare as declare_program
from appcdn.program.stack_program import export
from appcdn.rules.rulesets import compile_zones
from appcdn.runtime import batch_lambda
from tests.conftest import declare, problems_of, project_of, raw_config

ONE_YEAR = "public, max-age=31536000"
ONE_HOUR = "public, max-age=3600"
RULES = [{"match": "filer_public_thumbnails/*", "cache_control": ONE_YEAR}, {"match": "*", "cache_control": ONE_HOUR}]
ACCOUNT = "123456789012"
NS = "{http://awss3control.amazonaws.com/doc/2018-08-20/}"


def planned(**aws: Any) -> dict[str, Any]:
    project = project_of(
        raw_config(media={"backend": "aws", "aws": {"bucket_name": "shop-media", "batch_operations": {}, **aws}})
    )
    return declare(lambda: export(declare_program(project, compile_zones(project))))


def policy(resource: Any) -> dict[str, Any]:
    return dict(json.loads(resource.inputs["policy"]))


def test_the_stack_declares_inventory_function_roles_and_job_instead_of_reconciling_from_here() -> None:
    resources = planned()
    assert resources["shop-live-media-headers"].type == "appcdn:index:S3HeadersBatch"
    assert not any(r.type == "pulumi-python:dynamic/appcdn:MediaHeaders" for r in resources.values())

    inventory = resources["shop-live-media-headers-inventory"].inputs
    assert (inventory["bucket"], inventory["includedObjectVersions"], inventory["schedule"]) == (
        "shop-media",
        "Current",
        {"frequency": "Weekly"},
    )
    assert inventory["destination"]["bucket"]["format"] == "CSV"
    assert inventory["destination"]["bucket"]["prefix"] == "inventory"

    function = resources["shop-live-media-headers-function"].inputs
    assert function["handler"] == "appcdn.runtime.batch_lambda.handler"
    assert json.loads(function["environment"]["variables"][batch_lambda.RULES_VARIABLE]) == RULES
    assert function["timeout"] == 900

    job = resources["shop-live-media-headers-job"]
    assert job.type == "pulumi-python:dynamic/appcdn:HeadersJob"
    assert (job.inputs["bucket"], job.inputs["rules"], job.inputs["inventory_id"]) == (
        "shop-media",
        RULES,
        "appcdn-headers",
    )


def test_the_job_s_id_and_status_are_stack_outputs() -> None:
    project = project_of(raw_config(media={"backend": "aws", "aws": {"batch_operations": {}}}))
    outputs = run_program(
        lambda: export(declare_program(project, compile_zones(project))), "appcdn", "unit", {}, []
    ).outputs
    assert set(outputs["sites"]["shop"]["media"]["headers_job"]) == {"id", "status"}


def test_each_role_may_do_only_its_part() -> None:
    resources = planned()
    function = policy(resources["shop-live-media-headers-function-policy"])["Statement"]
    assert {r for s in function for r in ([s["Resource"]] if isinstance(s["Resource"], str) else s["Resource"])} == {
        "arn:aws:s3:::shop-media",
        "arn:aws:s3:::shop-media/*",
        "arn:aws:logs:eu-central-1:[unknown]:log-group:shop-live-media-headers-logs:*",
    }
    assert not any("Delete" in a for s in function for a in s["Action"])
    # logs only into the function's own group: no managed policy writing to every log group of the account
    assert not [r for r in resources.values() if r.type == "aws:iam/rolePolicyAttachment:RolePolicyAttachment"]
    logs = next(s for s in function if s["Resource"].startswith("arn:aws:logs:"))
    assert logs["Action"] == ["logs:CreateLogStream", "logs:PutLogEvents"]
    function_logs = resources["shop-live-media-headers-function"].inputs["loggingConfig"]["logGroup"]
    assert function_logs == resources["shop-live-media-headers-logs"].name
    job_role = json.loads(resources["shop-live-media-headers-job-role"].inputs["assumeRolePolicy"])
    assert job_role["Statement"][0]["Principal"] == {"Service": "batchoperations.s3.amazonaws.com"}
    reports = policy(resources["shop-live-media-headers-reports-policy"])["Statement"]
    inventory = next(s for s in reports if s["Effect"] == "Allow")
    assert inventory["Principal"] == {"Service": "s3.amazonaws.com"}
    assert inventory["Condition"]["ArnLike"] == {"aws:SourceArn": "arn:aws:s3:::shop-media"}
    # the deployer's account is known only at up: the plan says so instead of showing null
    assert inventory["Condition"]["StringEquals"] == {"aws:SourceAccount": "[unknown]"}
    assert any(s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}} for s in reports)
    access = resources["shop-live-media-headers-reports-public-access"].inputs
    assert all(access[k] for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"))


def test_the_function_package_is_the_set_the_handler_needs() -> None:
    archive = planned()["shop-live-media-headers-function"].inputs["code"]  # a FileArchive, as sent on the wire
    assert archive["path"] == str(batch_lambda.function_archive())


def test_a_lower_multipart_threshold_reaches_the_function_s_environment() -> None:
    variables = planned(multipart_threshold_mib=64)["shop-live-media-headers-function"].inputs["environment"]
    assert variables["variables"][batch_lambda.THRESHOLD_VARIABLE] == str(64 * 1024**2)
    default = planned()["shop-live-media-headers-function"].inputs["environment"]["variables"]
    assert set(default) == {batch_lambda.RULES_VARIABLE}


def test_batch_operations_without_the_deploy_run_is_refused_with_the_key_path() -> None:
    problems = problems_of(
        raw_config(media={"backend": "aws", "sync_headers_on_deploy": False, "aws": {"batch_operations": {}}})
    )
    assert any(
        p.startswith("sites[0].media.aws.batch_operations: ") and "nothing would ever run it" in p for p in problems
    ), problems


def test_rules_too_large_for_the_function_environment_are_refused() -> None:
    rules = [{"match": f"prefix-{i:04d}-{'x' * 40}/*", "cache_control": ONE_HOUR} for i in range(60)]
    problems = problems_of(raw_config(media={"backend": "aws", "headers": rules, "aws": {"batch_operations": {}}}))
    assert any(p.startswith("sites[0].media.headers: ") and "4096 bytes" in p for p in problems), problems


# --- the job's provider ----------------------------------------------------------------------------------


@pytest.fixture
def reports(s3_env: str) -> tuple[Any, str]:
    client = boto3.client("s3", endpoint_url=s3_env, region_name="us-east-1")
    name = f"reports-{uuid.uuid4().hex[:12]}"
    client.create_bucket(Bucket=name)
    return client, name


def deliver(client: Any, bucket: str, folder: str, manifest: bool = True) -> str:
    """What S3 Inventory writes for one delivery (data first, the manifest last)."""
    base = f"inventory/shop-media/appcdn-headers/{folder}/"
    client.put_object(Bucket=bucket, Key=f"inventory/shop-media/appcdn-headers/data/{uuid.uuid4()}.csv.gz", Body=b"")
    if not manifest:
        client.put_object(Bucket=bucket, Key=base + "manifest.checksum", Body=b"")
        return ""
    etag: str = client.put_object(
        Bucket=bucket,
        Key=base + "manifest.json",
        Body=json.dumps({"sourceBucket": "shop-media", "fileFormat": "CSV"}).encode(),
    )["ETag"]
    return etag.strip('"')


def test_the_newest_complete_delivery_is_the_manifest(reports: tuple[Any, str]) -> None:
    client, bucket = reports
    assert newest_manifest(client, bucket, "shop-media", "appcdn-headers") is None
    deliver(client, bucket, "2026-11-13T01-00Z")
    etag = deliver(client, bucket, "2026-11-20T01-00Z")
    deliver(client, bucket, "2026-11-27T01-00Z", manifest=False)  # being delivered
    client.put_object(
        Bucket=bucket, Key="inventory/shop-media/appcdn-headers/hive/dt=2026-11-20-01-00/symlink.txt", Body=b""
    )
    assert newest_manifest(client, bucket, "shop-media", "appcdn-headers") == (
        "inventory/shop-media/appcdn-headers/2026-11-20T01-00Z/manifest.json",
        etag,
    )


@dataclass
class FakeS3Control:
    refuse_role: int = 0
    """Answer this many CreateJob requests as S3 does while a new role is not yet assumable."""
    requests: list[tuple[str, str, str, ET.Element]] = field(default_factory=list)
    """(method, Host, path, body) of every request."""


@contextmanager
def s3_control(state: FakeS3Control) -> Iterator[str]:
    """An HTTP proxy URL: every request sent through it is answered as S3 Control answers ``CreateJob``
    (https://docs.aws.amazon.com/AmazonS3/latest/API/API_control_CreateJob.html)."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            self._record(ET.fromstring(body))
            if state.refuse_role > 0:
                state.refuse_role -= 1
                self._answer(
                    400,
                    b'<?xml version="1.0" encoding="UTF-8"?><ErrorResponse><Error>'
                    b"<Code>InvalidRequest</Code><Message>Unable to assume role arn:aws:iam::"
                    b"123456789012:role/job</Message></Error></ErrorResponse>",
                )
                return
            self._answer(
                200,
                b'<?xml version="1.0" encoding="UTF-8"?><CreateJobResult>'
                b"<JobId>8e5d9f2c-0000-4000-8000-000000000001</JobId></CreateJobResult>",
            )

        def do_GET(self) -> None:
            self._record(ET.Element("none"))
            self._answer(
                200,
                b'<?xml version="1.0" encoding="UTF-8"?><DescribeJobResult><Job>'
                b"<JobId>8e5d9f2c-0000-4000-8000-000000000001</JobId><Status>Complete</Status>"
                b"<Priority>10</Priority><ProgressSummary><TotalNumberOfTasks>4</TotalNumberOfTasks>"
                b"<NumberOfTasksSucceeded>3</NumberOfTasksSucceeded>"
                b"<NumberOfTasksFailed>1</NumberOfTasksFailed></ProgressSummary></Job>"
                b"</DescribeJobResult>",
            )

        def _record(self, body: ET.Element) -> None:
            """The request as a proxy receives it: the absolute URL's path, the Host header."""
            path = "/" + self.path.split("://", 1)[-1].split("/", 1)[-1]
            state.requests.append((self.command, self.headers["Host"], path, body))

        def _answer(self, status: int, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/xml")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def control(s3_env: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeS3Control]:
    state = FakeS3Control()
    with s3_control(state) as proxy:
        monkeypatch.setenv("AWS_ENDPOINT_URL_S3_CONTROL", "http://s3-control.appcdn.test")
        monkeypatch.setenv("HTTP_PROXY", proxy)
        monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
        yield state


def props(reports_bucket: str) -> dict[str, Any]:
    return {
        "bucket": "shop-media",
        "region": "us-east-1",
        "reports_bucket": reports_bucket,
        "inventory_id": "appcdn-headers",
        "function_arn": f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:f",
        "role_arn": f"arn:aws:iam::{ACCOUNT}:role/job",
        "priority": 10,
        "rules": RULES,
    }


def outs_of(result: CreateResult | UpdateResult | ReadResult) -> dict[str, Any]:
    """The outputs a provider call returned (always some, for this provider)."""
    assert result.outs is not None
    return result.outs


def text(element: ET.Element, path: str) -> str | None:
    found = element.find("/".join(NS + part for part in path.split("/")))
    return None if found is None else found.text


def test_before_the_first_inventory_it_waits_and_every_preview_shows_it_pending(
    reports: tuple[Any, str], control: FakeS3Control
) -> None:
    _, bucket = reports
    provider = HeadersJobProvider()
    outs = outs_of(provider.create(props(bucket)))
    assert (outs["job_id"], outs["status"]) == (None, WAITING)
    assert control.requests == []
    assert provider.diff("id", outs, props(bucket)).changes


def test_a_job_invokes_the_function_on_the_newest_inventory_and_reports_failures(
    reports: tuple[Any, str], control: FakeS3Control
) -> None:
    client, bucket = reports
    etag = deliver(client, bucket, "2026-11-20T01-00Z")
    outs = outs_of(HeadersJobProvider().create(props(bucket)))
    assert outs["job_id"] == "8e5d9f2c-0000-4000-8000-000000000001"
    assert outs["manifest"] == f"s3://{bucket}/inventory/shop-media/appcdn-headers/2026-11-20T01-00Z/manifest.json"
    [(method, host, path, body)] = control.requests
    assert (method, host, path) == ("POST", f"{ACCOUNT}.s3-control.appcdn.test", "/v20180820/jobs")
    assert text(body, "Operation/LambdaInvoke/FunctionArn") == f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:f"
    assert text(body, "Operation/LambdaInvoke/InvocationSchemaVersion") == "2.0"
    assert text(body, "Manifest/Spec/Format") == "S3InventoryReport_CSV_20161130"
    assert text(body, "Manifest/Location/ObjectArn") == (
        f"arn:aws:s3:::{bucket}/inventory/shop-media/appcdn-headers/2026-11-20T01-00Z/manifest.json"
    )
    assert text(body, "Manifest/Location/ETag") == etag
    assert text(body, "Report/ReportScope") == "FailedTasksOnly"
    assert text(body, "ConfirmationRequired") == "false"
    assert text(body, "RoleArn") == f"arn:aws:iam::{ACCOUNT}:role/job"


def test_an_up_retried_is_one_job_and_going_back_to_earlier_rules_is_a_new_one(
    reports: tuple[Any, str], control: FakeS3Control
) -> None:
    client, bucket = reports
    deliver(client, bucket, "2026-11-20T01-00Z")
    first = outs_of(HeadersJobProvider().create(props(bucket)))
    HeadersJobProvider().create(props(bucket))  # the same up, retried before its result was recorded
    rules_b = {**props(bucket), "rules": [{"match": "*", "cache_control": ONE_YEAR}]}
    second = outs_of(HeadersJobProvider().update("id", first, rules_b))
    HeadersJobProvider().update("id", {**second, "job_id": "job-of-rules-b"}, props(bucket))  # A → B → A
    HeadersJobProvider().update("id", first, {**props(bucket), "rerun": 1})
    tokens = [text(body, "ClientRequestToken") for *_, body in control.requests]
    assert tokens[0] == tokens[1]
    assert len(set(tokens)) == 4


def test_refresh_reads_the_job_s_state_and_progress(reports: tuple[Any, str], control: FakeS3Control) -> None:
    client, bucket = reports
    deliver(client, bucket, "2026-11-20T01-00Z")
    provider = HeadersJobProvider()
    outs = outs_of(provider.create(props(bucket)))
    assert (
        outs_of(provider.read("id", outs))["status"]
        == "job 8e5d9f2c-0000-4000-8000-000000000001 Complete: 3 succeeded, 1 failed of 4"
    )
    assert control.requests[-1][:3] == (
        "GET",
        f"{ACCOUNT}.s3-control.appcdn.test",
        "/v20180820/jobs/8e5d9f2c-0000-4000-8000-000000000001",
    )
    waiting = {**outs, "job_id": None}
    assert provider.read("id", waiting).outs == waiting


def test_a_role_not_yet_assumable_is_waited_for(reports: tuple[Any, str], control: FakeS3Control) -> None:
    client, bucket = reports
    deliver(client, bucket, "2026-11-20T01-00Z")
    control.refuse_role = 1
    assert outs_of(HeadersJobProvider().create(props(bucket)))["job_id"]
    assert len(control.requests) == 2


def test_a_change_of_rules_or_of_rerun_needs_a_new_job_and_nothing_else_does() -> None:
    provider = HeadersJobProvider()
    olds = {**props("reports"), "job_id": "j"}
    assert provider.diff("id", olds, {**olds, "rules": RULES[1:]}).changes
    assert provider.diff("id", olds, {**olds, "rerun": 1}).changes
    assert not provider.diff("id", olds, {**olds, "priority": 50}).changes
