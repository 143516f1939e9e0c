"""The S3 Batch Operations Lambda function (invocation schema 2.0), called as Lambda calls it, against moto's S3
server over real HTTP (tests/emulators.py), through the loopback proxy where requests are counted or throttled;
and its package alone, run in a fresh interpreter that cannot import pydantic, Pulumi, the Azure SDK or
``appcdn.config``."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import urllib.parse
import uuid
import zipfile
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from appcdn.runtime import batch_lambda
from appcdn.runtime.batch_lambda import (
    HANDLER,
    RULES_VARIABLE,
    S3_MODEL,
    classify,
    function_archive,
    handler,
    package_files,
    require_if_match,
)
from tests.emulators import free_port
from tests.loopback_proxy import Throttle, loopback_proxy

ONE_YEAR = "public, max-age=31536000"
ONE_HOUR = "public, max-age=3600"
RULES = [
    {"match": "filer_public_thumbnails/*", "cache_control": ONE_YEAR},
    {"match": "documents/*", "cache_control": "private, no-store", "content_disposition": "attachment"},
    {"match": "filer_public/*", "cache_control": ONE_HOUR},
]
SLOW_DOWN = (
    b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code>'
    b"<Message>Please reduce your request rate.</Message></Error>"
)
AWKWARD_KEYS = [
    "filer_public_thumbnails/2026/a b+c.jpg__400x300.jpg",
    "filer_public/ünïcødé €/naïve+1.png",
    "documents/with space/contract+v2.pdf",
]


@pytest.fixture
def s3_env(s3_env: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """The plugin's, plus what Lambda gives the function here (the rules); each test starts cold."""
    monkeypatch.setenv(RULES_VARIABLE, json.dumps(RULES))
    monkeypatch.delenv("AWS_MAX_ATTEMPTS", raising=False)
    monkeypatch.setattr(batch_lambda, "_container", None)
    return s3_env


@pytest.fixture
def bucket(s3_env: str) -> Iterator[str]:
    name = f"media-{uuid.uuid4().hex[:12]}"
    client = direct(s3_env)
    client.create_bucket(Bucket=name)
    client.put_bucket_ownership_controls(
        Bucket=name, OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    )
    yield name


def direct(endpoint: str) -> Any:
    """A plain client straight to moto, for setting up and checking."""
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def head(endpoint: str, bucket: str, key: str) -> dict[str, Any]:
    return dict(direct(endpoint).head_object(Bucket=bucket, Key=key))


def batch_key(key: str, safe: str = "/") -> str:
    """A key as Batch Operations writes it into ``s3Key``: URL-encoded, a space as '+', a '+' as '%2B'."""
    return urllib.parse.quote_plus(key, safe=safe)


def event(bucket: str, keys: list[str], schema: str = "2.0", safe: str = "/") -> dict[str, Any]:
    """A Batch Operations invocation event (schema 2.0: the bucket by name; 1.0: by ARN)."""
    where = {"s3Bucket": bucket} if schema == "2.0" else {"s3BucketArn": f"arn:aws:s3:::{bucket}"}
    return {
        "invocationSchemaVersion": schema,
        "invocationId": uuid.uuid4().hex,
        "job": {"id": str(uuid.uuid4()), **({"userArguments": {}} if schema == "2.0" else {})},
        "tasks": [
            {"taskId": f"task-{i}", "s3Key": batch_key(key, safe), "s3VersionId": None, **where}
            for i, key in enumerate(keys)
        ],
    }


def outcomes(response: dict[str, Any]) -> list[tuple[str, str]]:
    return [(r["resultCode"], r["resultString"]) for r in response["results"]]


def test_a_batch_gives_each_key_its_rule_and_keeps_type_encoding_and_metadata(bucket: str, s3_env: str) -> None:
    for key in AWKWARD_KEYS:
        direct(s3_env).put_object(
            Bucket=bucket,
            Key=key,
            Body=b"x",
            ContentType="image/png",
            ContentEncoding="gzip",
            Metadata={"origin": "upload"},
            CacheControl="max-age=60",
        )
    request = event(bucket, AWKWARD_KEYS[:2])
    request["tasks"].append(event(bucket, AWKWARD_KEYS[2:], safe="")["tasks"][0] | {"taskId": "task-2"})
    assert request["tasks"][0]["s3Key"] == "filer_public_thumbnails/2026/a+b%2Bc.jpg__400x300.jpg"
    assert request["tasks"][1]["s3Key"].startswith("filer_public/%C3%BCn%C3%AF")
    assert request["tasks"][2]["s3Key"] == "documents%2Fwith+space%2Fcontract%2Bv2.pdf"

    response = handler(request, None)

    assert response == {
        "invocationSchemaVersion": "2.0",
        "treatMissingKeysAs": "PermanentFailure",
        "invocationId": request["invocationId"],
        "results": [{"taskId": f"task-{i}", "resultCode": "Succeeded", "resultString": "changed"} for i in range(3)],
    }
    expected = {
        AWKWARD_KEYS[0]: (ONE_YEAR, None),
        AWKWARD_KEYS[1]: (ONE_HOUR, None),
        AWKWARD_KEYS[2]: ("private, no-store", "attachment"),
    }
    for key, (cache_control, disposition) in expected.items():
        after = head(s3_env, bucket, key)
        assert (after["CacheControl"], after.get("ContentDisposition")) == (cache_control, disposition)
        assert (after["ContentType"], after["ContentEncoding"], after["Metadata"]) == (
            "image/png",
            "gzip",
            {"origin": "upload"},
        )


def test_a_warm_container_s_second_invocation_reports_unchanged_and_writes_nothing(
    bucket: str, s3_env: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    keys = [f"filer_public/{i} x.jpg" for i in range(4)]
    for key in keys:
        direct(s3_env).put_object(Bucket=bucket, Key=key, Body=b"x")
    with loopback_proxy(s3_env) as (url, state):
        monkeypatch.setenv("AWS_ENDPOINT_URL_S3", url)
        assert outcomes(handler(event(bucket, keys), None)) == [("Succeeded", "changed")] * 4
        assert state.requests == Counter({"GET": 1, "HEAD": 4, "PUT": 4})  # ownership check, HEAD, copy
        state.reset()
        assert outcomes(handler(event(bucket, keys), None)) == [("Succeeded", "unchanged")] * 4
        assert state.requests == Counter({"HEAD": 4})


def test_an_unmatched_key_is_left_alone_and_a_missing_or_archived_one_fails_permanently(
    bucket: str, s3_env: str
) -> None:
    direct(s3_env).put_object(Bucket=bucket, Key="private/notes.txt", Body=b"x", CacheControl="no-cache")
    direct(s3_env).put_object(Bucket=bucket, Key="filer_public/old.jpg", Body=b"x", StorageClass="GLACIER")
    response = handler(event(bucket, ["private/notes.txt", "filer_public/gone.jpg", "filer_public/old.jpg"]), None)
    assert outcomes(response)[:2] == [("Succeeded", "no rule"), ("PermanentFailure", "HeadObject NoSuchKey: Not Found")]
    assert outcomes(response)[2][0] == "PermanentFailure"
    assert outcomes(response)[2][1].startswith("CopyObject ObjectNotInActiveTierError: "), outcomes(response)[2]
    assert head(s3_env, bucket, "private/notes.txt")["CacheControl"] == "no-cache"


@pytest.mark.parametrize(
    ("code", "status", "result"),
    [
        ("AccessDenied", 403, "PermanentFailure"),
        ("NoSuchBucket", 404, "PermanentFailure"),
        ("ObjectNotInActiveTierError", 403, "PermanentFailure"),
        ("SlowDown", 503, "TemporaryFailure"),
        ("InternalError", 500, "TemporaryFailure"),
        ("RequestTimeout", 400, "TemporaryFailure"),
        ("PreconditionFailed", 412, "TemporaryFailure"),
        ("TooManyRequests", 429, "TemporaryFailure"),
        ("502", 502, "TemporaryFailure"),
    ],
)
def test_errors_are_temporary_when_trying_again_later_may_succeed(code: str, status: int, result: str) -> None:
    error = ClientError(
        {"Error": {"Code": code, "Message": "m"}, "ResponseMetadata": {"HTTPStatusCode": status}}, "CopyObject"
    )
    assert classify(error) == (result, f"CopyObject {code}: m")


@pytest.mark.parametrize(
    ("method", "reason"),
    [("PUT", "CopyObject SlowDown: Please reduce your request rate."), ("HEAD", "HeadObject 503: Service Unavailable")],
)
def test_throttling_past_the_sdk_s_retries_is_a_temporary_failure_and_the_redriven_task_succeeds(
    bucket: str, s3_env: str, monkeypatch: pytest.MonkeyPatch, method: str, reason: str
) -> None:
    key = "filer_public/hot.jpg"
    direct(s3_env).put_object(Bucket=bucket, Key=key, Body=b"x")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "2")
    throttle = Throttle(count=2, status=503, body=SLOW_DOWN, methods=(method,))
    with loopback_proxy(s3_env, throttle=throttle) as (url, _state):
        monkeypatch.setenv("AWS_ENDPOINT_URL_S3", url)
        assert outcomes(handler(event(bucket, [key]), None)) == [("TemporaryFailure", reason)]
        assert throttle.answered == 2
        assert outcomes(handler(event(bucket, [key]), None)) == [("Succeeded", "changed")]
    assert head(s3_env, bucket, key)["CacheControl"] == ONE_HOUR


ACCESS_DENIED = (
    b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>'
)


@pytest.mark.parametrize(
    ("status", "body", "result"),
    [
        (503, SLOW_DOWN, ("TemporaryFailure", "GetBucketOwnershipControls SlowDown: Please reduce your request rate.")),
        (403, ACCESS_DENIED, ("PermanentFailure", "GetBucketOwnershipControls AccessDenied: Access Denied")),
    ],
)
def test_an_unreadable_ownership_setting_fails_the_task_without_reading_any_acl(
    bucket: str, s3_env: str, monkeypatch: pytest.MonkeyPatch, status: int, body: bytes, result: tuple[str, str]
) -> None:
    """The role may not read ACLs (s3:GetObjectAcl): ACLs are never assumed when the bucket's ownership setting
    cannot be read, and a container that failed to read it reads it again for the next task."""
    key = "filer_public/a.jpg"
    direct(s3_env).put_object(Bucket=bucket, Key=key, Body=b"x")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    throttle = Throttle(count=1, status=status, body=body, methods=("GET",), path_contains="ownershipControls")
    with loopback_proxy(s3_env, throttle=throttle) as (url, state):
        monkeypatch.setenv("AWS_ENDPOINT_URL_S3", url)
        assert outcomes(handler(event(bucket, [key]), None)) == [result]
        assert throttle.answered == 1
        assert outcomes(handler(event(bucket, [key]), None)) == [("Succeeded", "changed")]
    assert not [path for _, path, _ in state.log if "acl" in path.lower()]
    assert head(s3_env, bucket, key)["CacheControl"] == ONE_HOUR


def test_an_unreachable_endpoint_is_a_temporary_failure(bucket: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", f"http://127.0.0.1:{free_port()}")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    ((code, reason),) = outcomes(handler(event(bucket, ["filer_public/a.jpg"]), None))
    assert code == "TemporaryFailure" and reason.startswith("EndpointConnectionError: ")
    assert not batch_lambda._container.buckets  # type: ignore[union-attr]  # the next task checks ownership again


def test_schema_1_0_names_the_bucket_by_arn_and_other_versions_are_refused(bucket: str, s3_env: str) -> None:
    direct(s3_env).put_object(Bucket=bucket, Key="documents/a b.pdf", Body=b"x")
    response = handler(event(bucket, ["documents/a b.pdf"], schema="1.0"), None)
    assert response["invocationSchemaVersion"] == "1.0"
    assert outcomes(response) == [("Succeeded", "changed")]
    assert head(s3_env, bucket, "documents/a b.pdf")["ContentDisposition"] == "attachment"
    with pytest.raises(ValueError, match=r"invocationSchemaVersion '3\.0'"):
        handler({**event(bucket, ["documents/a b.pdf"]), "invocationSchemaVersion": "3.0"}, None)


def test_rules_the_function_cannot_read_fail_every_task_permanently_with_the_reason(
    bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(RULES_VARIABLE, json.dumps([{"match": "*"}]))
    assert (
        outcomes(handler(event(bucket, ["a", "b"]), None))
        == [
            (
                "PermanentFailure",
                f"{RULES_VARIABLE}: ValueError: header rule {{'match': '*'}}: cache_control must be a string, not None",
            )
        ]
        * 2
    )
    monkeypatch.delenv(RULES_VARIABLE)
    assert outcomes(handler(event(bucket, ["a"]), None)) == [
        ("PermanentFailure", f"{RULES_VARIABLE}: KeyError: '{RULES_VARIABLE}'")
    ]


REFUSED = ("pydantic", "pulumi", "azure", "appcdn.config")
LAMBDA_RUNTIME = {
    "appcdn",
    "appcdn_django",
    "boto3",
    "botocore",
    "s3transfer",
    "jmespath",
    "urllib3",
    "dateutil",
    "six",
}
"""What the function may import beyond the standard library: its package, which holds boto3 and what it imports."""
ISOLATED = """
import json, os, sys

package, refused = sys.argv[1], tuple(sys.argv[2].split(","))


class Refuse:
    def find_spec(self, name, path=None, target=None):
        if any(name == r or name.startswith(r + ".") for r in refused):
            raise ImportError(f"{name} is not in the Lambda package")
        return None


sys.meta_path.insert(0, Refuse())
sys.path[:0] = [package]
module_name, function = os.environ["HANDLER"].rsplit(".", 1)
module = __import__(module_name, fromlist=[function])
response = getattr(module, function)(json.load(sys.stdin), None)
top_level = sorted({name.split(".")[0] for name in sys.modules if not name.startswith("__")}
                   - set(sys.stdlib_module_names))
files = {name: getattr(sys.modules[name], "__file__", None) for name in top_level}
print(json.dumps({"response": response, "file": module.__file__, "imported": top_level, "files": files}))
"""


@pytest.fixture
def package(tmp_path: Path) -> Path:
    """The function's zip as deployed, unpacked, and nothing else: no site-packages, no runtime boto3."""
    with zipfile.ZipFile(function_archive(tmp_path)) as archive:
        archive.extractall(tmp_path / "package")
    return tmp_path / "package"


def isolated(package: Path, script: str, **options: Any) -> subprocess.CompletedProcess[str]:
    """``script`` in a fresh interpreter: -I -S (no PYTHONPATH, no site-packages, none of its .pth files such
    as the editable install of appcdn); the script itself puts the package, and only it, on sys.path."""
    return subprocess.run(
        [sys.executable, "-I", "-S", "-c", script, str(package), ",".join(REFUSED)],
        capture_output=True,
        text=True,
        timeout=120,
        **options,
    )


@pytest.mark.parametrize("refused", REFUSED)
def test_the_isolated_interpreter_refuses_what_the_function_must_not_need(refused: str, package: Path) -> None:
    """The guard of the test below works (the venv does have all of these)."""
    run = isolated(package, ISOLATED.split("module_name, function")[0] + f"import {refused}\n")
    assert run.returncode == 1 and f"{refused} is not in the Lambda package" in run.stderr, run.stderr


def test_the_zip_holds_the_function_boto3_and_botocore_with_s3_s_model_only(tmp_path: Path) -> None:
    archive = function_archive(tmp_path)
    with zipfile.ZipFile(archive) as opened:
        names = opened.namelist()
        model = json.loads(gzip.decompress(opened.read(S3_MODEL)))
    assert names == sorted(package_files())
    assert {name.split("/")[0].removesuffix(".py") for name in names} == LAMBDA_RUNTIME
    assert {name.split("/")[2] for name in names if name.startswith("botocore/data/") and name.count("/") > 2} == {"s3"}
    assert not [name for name in names if "__pycache__" in name or name.endswith(".pyc")]
    assert "IfMatch" in model["shapes"]["CompleteMultipartUploadRequest"]["members"]
    assert function_archive(tmp_path) == archive and archive.stat().st_size < 5 * 1024**2  # built once per content


def test_an_sdk_without_if_match_on_completion_is_refused() -> None:
    shipped = json.loads(gzip.decompress(package_files()[S3_MODEL].read_bytes()))
    del shipped["shapes"]["CompleteMultipartUploadRequest"]["members"]["IfMatch"]
    with pytest.raises(RuntimeError, match="no IfMatch on CompleteMultipartUpload"):
        require_if_match(gzip.compress(json.dumps(shipped).encode()))


def test_the_package_alone_runs_without_pydantic_pulumi_azure_or_the_config(
    bucket: str, s3_env: str, package: Path
) -> None:
    assert set(batch_lambda.PACKAGE) == {
        "appcdn/__init__.py",
        "appcdn/runtime/__init__.py",
        "appcdn/runtime/header_rules.py",
        "appcdn/runtime/s3_objects.py",
        "appcdn/runtime/batch_lambda.py",
        "appcdn_django/__init__.py",
        "appcdn_django/globs.py",
    }
    key, video = "filer_public_thumbnails/ä b+c.jpg", "filer_public/video.mp4"
    direct(s3_env).put_object(Bucket=bucket, Key=key, Body=b"x", ContentType="image/jpeg")
    direct(s3_env).put_object(Bucket=bucket, Key=video, Body=b"v" * (6 * 1024**2), ContentType="video/mp4")
    # above the threshold the shipped botocore sends CompleteMultipartUpload with IfMatch (an older one refuses it)
    env = {**os.environ, "HANDLER": HANDLER, batch_lambda.THRESHOLD_VARIABLE: str(5 * 1024**2)}
    run = isolated(package, ISOLATED, input=json.dumps(event(bucket, [key, video])), env=env)
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)
    assert result["file"] == str(package / "appcdn/runtime/batch_lambda.py")
    assert set(result["imported"]) <= LAMBDA_RUNTIME, result["imported"]
    assert all(result["files"][name].startswith(str(package)) for name in ("boto3", "botocore")), result["files"]
    assert outcomes(result["response"]) == [("Succeeded", "changed"), ("Succeeded", "changed")]
    after = head(s3_env, bucket, key)
    assert (after["CacheControl"], after["ContentType"]) == (ONE_YEAR, "image/jpeg")
    copied = head(s3_env, bucket, video)
    assert (copied["CacheControl"], copied["ETag"].endswith('-1"')) == (ONE_HOUR, True)  # one part, completed
    assert not direct(s3_env).list_multipart_uploads(Bucket=bucket).get("Uploads")
