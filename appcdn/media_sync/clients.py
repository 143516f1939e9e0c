"""SDK clients from the standard environment, with retries on throttling and a pool per worker.

- S3: boto3's own resolution (``AWS_ENDPOINT_URL_S3`` / ``AWS_ENDPOINT_URL``, the usual credentials),
  botocore's *standard* retry mode (exponential backoff with jitter on throttling errors such as
  503 SlowDown, and on 500/502/504), up to ``ATTEMPTS`` attempts.
- Azure: ``AZURE_STORAGE_CONNECTION_STRING``; else the account's endpoint with ``AZURE_STORAGE_KEY``, else
  ``DefaultAzureCredential`` (when ``azure-identity`` is installed). The storage SDK's exponential retry
  retries 408 and 5xx (503 ServerBusy is how Azure Storage throttles) but not 429 (its ``is_retry``), which
  a front end or a proxy may send: ``ThrottleAwareRetry`` retries that too, honouring ``Retry-After``.
"""

from __future__ import annotations

import os
import random
import time
from typing import Any

from azure.storage.blob import ExponentialRetry

ATTEMPTS = 10
AZURE_INITIAL_BACKOFF = 1
MAX_BACKOFF_SECONDS = 30.0


def backoff_seconds(attempt: int, retry_after: str | None = None) -> float:
    """``Retry-After`` (seconds) when the server gives it, else exponential backoff with full jitter."""
    if retry_after is not None:
        try:
            return min(float(retry_after), MAX_BACKOFF_SECONDS)
        except ValueError:
            pass
    return random.uniform(0, min(0.5 * 2**attempt, MAX_BACKOFF_SECONDS))


class ThrottleAwareRetry(ExponentialRetry):
    """The storage SDK's exponential retry, and 429 Too Many Requests retried as well."""

    def send(self, request: Any) -> Any:
        for attempt in range(ATTEMPTS):
            response = super().send(request)  # type: ignore[no-untyped-call]
            if response.http_response.status_code != 429 or attempt == ATTEMPTS - 1:
                break
            time.sleep(backoff_seconds(attempt, response.http_response.headers.get("Retry-After")))
        return response


class CredentialsMissing(RuntimeError):
    """No way to authenticate was found in the environment."""


def s3_client(region: str | None, workers: int) -> Any:
    import boto3
    from botocore.config import Config

    config = Config(retries={"mode": "standard", "max_attempts": ATTEMPTS}, max_pool_connections=workers + 4)
    return boto3.session.Session().client("s3", region_name=region, config=config)


def blob_service(account: str | None, workers: int, **client_options: Any) -> Any:
    """A ``BlobServiceClient``; ``client_options`` go to the SDK (e.g. ``raw_request_hook``)."""
    import requests
    from azure.core.pipeline.transport import RequestsTransport
    from azure.storage.blob import BlobServiceClient

    session = requests.Session()
    adapter = requests.adapters.HTTPAdapter(pool_connections=workers + 4, pool_maxsize=workers + 4)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    options: dict[str, Any] = {
        "retry_policy": ThrottleAwareRetry(
            initial_backoff=AZURE_INITIAL_BACKOFF, increment_base=2, retry_total=ATTEMPTS - 1, random_jitter_range=1
        ),
        "transport": RequestsTransport(session=session, session_owner=True),
        **client_options,
    }
    connection_string = os.environ.get("AZURE_STORAGE_CONNECTION_STRING")
    if connection_string:
        named = dict(p.split("=", 1) for p in connection_string.split(";") if "=" in p).get("AccountName")
        if account and named and named != account:
            raise CredentialsMissing(
                f"AZURE_STORAGE_CONNECTION_STRING is for account {named}, not {account}: "
                "unset it, or give the account it is for"
            )
        return BlobServiceClient.from_connection_string(connection_string, **options)
    if not account:
        raise CredentialsMissing("no storage account: give one, or set AZURE_STORAGE_CONNECTION_STRING")
    url = f"https://{account}.blob.core.windows.net"
    key = os.environ.get("AZURE_STORAGE_KEY")
    if key:
        return BlobServiceClient(url, credential={"account_name": account, "account_key": key}, **options)
    try:
        from azure.identity import DefaultAzureCredential
    except ImportError:
        raise CredentialsMissing(
            "no Azure credentials: set AZURE_STORAGE_CONNECTION_STRING or AZURE_STORAGE_KEY, "
            "or install azure-identity for DefaultAzureCredential"
        ) from None
    return BlobServiceClient(url, credential=DefaultAzureCredential(), **options)
