"""The header reconcile as the Lambda function of an S3 Batch Operations "Invoke AWS Lambda function" job, for
buckets too large to list from one machine: the job runs over an S3 Inventory manifest and this function
reconciles each listed object with ``S3Bucket.reconcile``, exactly as ``appcdn media sync-headers`` does.

- Rules: ``APPCDN_HEADER_RULES``, a JSON list of already validated rules (``{"match", "cache_control",
  "content_disposition"?, "content_language"?}``), read once per container.
- Event, invocation schema 2.0: ``{"invocationSchemaVersion": "2.0", "invocationId", "job": {"id",
  "userArguments"?}, "tasks": [{"taskId", "s3Bucket", "s3Key", "s3VersionId"}]}``. Schema 1.0 (the default of
  a ``LambdaInvoke`` job) names the bucket by ARN instead (``"s3BucketArn"``) and is read as well; any other
  version is refused (the function fails: its answer could not be trusted).
- Keys arrive URL-encoded ("keys from S3 Batch Operations are URL encoded"); AWS's examples decode them with
  ``urllib.parse.unquote_plus(s3Key, encoding="utf-8")``, so '+' is a space and '%2B' a plus.
- Answer: ``{"invocationSchemaVersion", "treatMissingKeysAs": "PermanentFailure", "invocationId",
  "results": [{"taskId", "resultCode", "resultString"}]}``, one result per task. ``Succeeded`` with
  ``changed``, ``unchanged`` or ``no rule`` (the key matches no rule: nothing is asked of S3);
  ``TemporaryFailure`` (Batch Operations runs the task again before the job ends) for throttling and transient
  errors: HTTP 5xx and 429, SlowDown, RequestTimeout, InternalError, a copy raced twice by an upload
  (PreconditionFailed), connection errors and timeouts, each after botocore's standard retries
  (``AWS_MAX_ATTEMPTS``, default 3); ``PermanentFailure`` with a short reason for everything else
  (NoSuchKey, AccessDenied, ObjectNotInActiveTierError of an archived object, ...).
- The task's ``s3VersionId`` is not used: the reconcile reads and rewrites the current version (a manifest of
  current versions only is what this job needs; a noncurrent version's task reconciles the current one again,
  which costs one HEAD).
- ``APPCDN_MULTIPART_THRESHOLD`` (bytes, optional): objects larger than this are copied part by part
  (``S3Options.multipart_threshold``; default 5 GiB, ``CopyObject``'s limit).
- Rules the function cannot read (the variable unset, not JSON, a rule without a string ``match`` or
  ``cache_control``) fail every task permanently, the reason naming the variable.
- Nothing is purged from Cloudflare here (``appcdn media purge`` does, once the job has finished). The job's
  completion report lists the failed tasks with their reason, as does the function's log; the job's progress
  summary counts the others.

The function ships as ``function_archive()``: its own modules and the SDK it calls, boto3 and botocore with
their dependencies, taken from the deploying environment (whose versions appcdn's lock pins), botocore's
models cut to S3's. Not the runtime's bundled boto3: it lags S3's newest parameters, and a botocore without
``IfMatch`` on ``CompleteMultipartUpload`` (added late 2024, botocore 1.35.69) refuses that call, so every
object above the multipart threshold would fail; the archive is refused unless its own S3 model has it. No
pydantic, Pulumi or Azure SDK. Handler: ``HANDLER``.

https://docs.aws.amazon.com/AmazonS3/latest/userguide/batch-ops-invoke-lambda.html
https://docs.aws.amazon.com/AmazonS3/latest/API/API_control_LambdaInvokeOperation.html
https://docs.aws.amazon.com/lambda/latest/dg/services-s3-batch.html
"""

from __future__ import annotations

import gzip
import hashlib
import importlib.util
import json
import logging
import os
import tempfile
import zipfile
from pathlib import Path
from typing import Any
from urllib.parse import unquote_plus

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as BotoConnectionError

from appcdn.runtime.header_rules import RuleBook
from appcdn.runtime.s3_objects import S3Bucket, S3Options
from appcdn_django import globs

HANDLER = "appcdn.runtime.batch_lambda.handler"
RULES_VARIABLE = "APPCDN_HEADER_RULES"
THRESHOLD_VARIABLE = "APPCDN_MULTIPART_THRESHOLD"
PACKAGE = (
    "appcdn/__init__.py",
    "appcdn/runtime/__init__.py",
    "appcdn/runtime/header_rules.py",
    "appcdn/runtime/s3_objects.py",
    "appcdn/runtime/batch_lambda.py",
    "appcdn_django/__init__.py",
    "appcdn_django/globs.py",
)
"""The function's own modules: every file it imports beyond the standard library and the SDK."""
SDK_MODULES = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "six", "urllib3")
"""boto3 and what it imports (botocore takes certifi's CA bundle when installed, else its own cacert.pem)."""
BOTOCORE_MODELS = ("s3",)
"""The services whose models ship (``botocore/data/<service>/``); the top-level data files all do."""
S3_MODEL = "botocore/data/s3/2006-03-01/service-2.json.gz"
ZIP_TIME = (1980, 1, 1, 0, 0, 0)
"""Every entry's timestamp: the same files make the same archive, so an unchanged function is no change."""

SUCCEEDED, TEMPORARY, PERMANENT = "Succeeded", "TemporaryFailure", "PermanentFailure"
BUCKET_FIELD = {"2.0": "s3Bucket", "1.0": "s3BucketArn"}
"""The task field naming the bucket, per invocation schema version."""
TRANSIENT_CODES = frozenset(
    {
        "SlowDown",
        "RequestTimeout",
        "InternalError",
        "ServiceUnavailable",
        "Throttling",
        "ThrottlingException",
        "TooManyRequests",
        "RequestLimitExceeded",
        "OperationAborted",
        "PreconditionFailed",
    }
)
"""Error codes worth another try later (besides any 5xx or 429 status)."""
HEAD_CODES = {"404": "NoSuchKey", "403": "AccessDenied"}
"""A HEAD answer has no body, so botocore names its error by the status."""
REASON_CHARS = 300

logger = logging.getLogger(__name__)


def package_files() -> dict[str, Path]:
    """Archive path → source file: the whole of the function's zip (its modules, then the SDK)."""
    roots = {"appcdn": Path(__file__).resolve().parents[2], "appcdn_django": Path(globs.__file__).resolve().parents[1]}
    files = {name: roots[name.split("/")[0]] / name for name in PACKAGE}
    for module in SDK_MODULES:
        spec = importlib.util.find_spec(module)
        if spec is None or spec.origin is None:
            raise RuntimeError(f"{module} is not installed: the function ships it (install appcdn's dependencies)")
        origin = Path(spec.origin)
        if origin.name != "__init__.py":  # a single-file module (six)
            files[origin.name] = origin
            continue
        for path in sorted(origin.parent.rglob("*")):
            name = path.relative_to(origin.parent.parent).as_posix()
            if path.is_file() and "__pycache__" not in path.parts and _shipped(name):
                files[name] = path
    return files


def _shipped(name: str) -> bool:
    parts = name.split("/")
    return parts[:2] != ["botocore", "data"] or len(parts) == 3 or parts[2] in BOTOCORE_MODELS


def require_if_match(s3_model: bytes) -> None:
    """Refuse an SDK whose S3 model (``service-2.json.gz``) lacks ``IfMatch`` on ``CompleteMultipartUpload``."""
    shapes = json.loads(gzip.decompress(s3_model))["shapes"]
    if "IfMatch" not in shapes["CompleteMultipartUploadRequest"]["members"]:
        raise RuntimeError(
            "the installed botocore has no IfMatch on CompleteMultipartUpload (added in botocore 1.35.69): the "
            "Batch Operations function would fail on every object above the multipart threshold; upgrade boto3"
        )


def function_archive(directory: Path | None = None) -> Path:
    """The function's zip, built once per content into ``directory`` (default: the system's temporary folder)
    and named by its digest; the same files give the same bytes."""
    files = package_files()
    require_if_match(files[S3_MODEL].read_bytes())
    contents = {name: files[name].read_bytes() for name in sorted(files)}
    digest = hashlib.sha256()
    for name, data in contents.items():
        digest.update(name.encode() + b"\0" + hashlib.sha256(data).digest())
    path = (directory or Path(tempfile.gettempdir())) / f"appcdn-batch-lambda-{digest.hexdigest()[:20]}.zip"
    if not path.exists():
        partial = path.with_name(f"{path.name}.{os.getpid()}.partial")
        with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, data in contents.items():
                entry = zipfile.ZipInfo(name, ZIP_TIME)
                entry.external_attr = 0o644 << 16
                entry.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(entry, data)
        os.replace(partial, path)
    return path


def decode_key(encoded: str) -> str:
    """An object key as Batch Operations sends it (URL-encoded, a space as '+') → the key."""
    return unquote_plus(encoded, encoding="utf-8", errors="strict")


def bucket_name(task: dict[str, Any], schema: str) -> str:
    """2.0 names the bucket; 1.0 gives its ARN (``arn:aws:s3:::name``; bucket names have no ':')."""
    return str(task[BUCKET_FIELD[schema]]).rsplit(":", 1)[-1]


def classify(error: Exception) -> tuple[str, str]:
    """(result code, short reason) of a failed reconcile."""
    if isinstance(error, ClientError):
        detail = error.response.get("Error", {})
        status = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
        code = str(detail.get("Code") or status)
        code = HEAD_CODES.get(code, code)
        message = str(detail.get("Message") or "")
        reason = f"{error.operation_name} {code}" + (f": {message}" if message else "")
        transient = code in TRANSIENT_CODES or status >= 500 or status == 429
        return (TEMPORARY if transient else PERMANENT), reason[:REASON_CHARS]
    reason = f"{type(error).__name__}: {error}"[:REASON_CHARS]
    return (TEMPORARY if isinstance(error, (BotoConnectionError, HTTPClientError)) else PERMANENT), reason


class Container:
    """What a warm container keeps between invocations: the rules, one S3 client, one ``S3Bucket`` per bucket
    (its ownership check, whether ACLs count, runs once)."""

    def __init__(self) -> None:
        self.book = RuleBook.from_dicts(json.loads(os.environ[RULES_VARIABLE]))
        self.client = boto3.session.Session().client("s3", config=Config(retries={"mode": "standard"}))
        self.buckets: dict[str, S3Bucket] = {}
        threshold = os.environ.get(THRESHOLD_VARIABLE)
        self.options = S3Options(multipart_threshold=int(threshold)) if threshold else S3Options()

    def bucket(self, name: str) -> S3Bucket:
        if name not in self.buckets:
            self.buckets[name] = S3Bucket(self.client, name, options=self.options)
        return self.buckets[name]

    def run(self, task: dict[str, Any], schema: str) -> tuple[str, str]:
        key = decode_key(task["s3Key"])
        declared = self.book.for_key(key)
        if declared is None:
            return SUCCEEDED, "no rule"
        try:
            changed = self.bucket(bucket_name(task, schema)).reconcile(key, declared, dry_run=False)
        except Exception as error:
            code, reason = classify(error)
            logger.warning("%s %r: %s", code, key, reason)
            return code, reason
        return SUCCEEDED, "changed" if changed else "unchanged"


_container: Container | None = None


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The Lambda entry point: one result per task of the event."""
    global _container
    schema = event.get("invocationSchemaVersion")
    if schema not in BUCKET_FIELD:
        raise ValueError(
            f"invocationSchemaVersion {schema!r}: this function reads 2.0 (and 1.0); "
            f"create the job with LambdaInvoke InvocationSchemaVersion 2.0"
        )
    results = []
    for task in event["tasks"]:
        try:
            if _container is None:
                _container = Container()
            code, reason = _container.run(task, schema)
        except (KeyError, ValueError, UnicodeError) as error:  # the rules' variable, or a malformed task
            code, reason = PERMANENT, f"{type(error).__name__}: {error}"[:REASON_CHARS]
            if _container is None:
                reason = f"{RULES_VARIABLE}: {reason}"
        results.append({"taskId": task["taskId"], "resultCode": code, "resultString": reason})
    return {
        "invocationSchemaVersion": schema,
        "treatMissingKeysAs": PERMANENT,
        "invocationId": event["invocationId"],
        "results": results,
    }
