"""SDK clients from the standard environment, with retries on throttling and a pool per worker.

Each request gets up to ``ATTEMPTS`` attempts, whatever went wrong:

- S3: boto3's own resolution (``AWS_ENDPOINT_URL_S3`` / ``AWS_ENDPOINT_URL``, the usual credentials),
  botocore's *standard* retry mode (exponential backoff with jitter on throttling errors such as 503
  SlowDown, on 500/502/503/504 and on connection errors), ``max_attempts=ATTEMPTS``.
- Azure: ``AZURE_STORAGE_CONNECTION_STRING``; else the account's endpoint with ``AZURE_STORAGE_KEY``, else
  ``DefaultAzureCredential`` (when ``azure-identity`` is installed). The storage SDK's exponential retry
  counts four budgets (``retry_total`` and, at 3 each unless given, ``retry_connect``, ``retry_read`` and
  ``retry_status``) and stops at the first exhausted: all four are set here. It retries 408 and 5xx (503
  ServerBusy is how Azure Storage throttles) but not 429, which a front end or a proxy may send:
  ``ThrottledIsRetried`` makes a 429 an error the SDK retries from the same budget. Waits grow
  exponentially (1, 3, 5, 9, 17 s, ±1 s) up to ``MAX_BACKOFF_SECONDS``.
"""

from __future__ import annotations

import os
from typing import Any

from azure.core.exceptions import ServiceResponseError
from azure.core.pipeline.transport import RequestsTransport
from azure.storage.blob import ExponentialRetry

from appcdn import defaults

ATTEMPTS = defaults.STORE_ATTEMPTS
AZURE_INITIAL_BACKOFF = 1
MAX_BACKOFF_SECONDS = 30.0


class CappedExponentialRetry(ExponentialRetry):
    """The storage SDK's exponential retry with every kind of failure allowed ``ATTEMPTS`` attempts, and no wait
    longer than ``MAX_BACKOFF_SECONDS``."""

    def __init__(self) -> None:
        retries = ATTEMPTS - 1
        super().__init__(
            initial_backoff=AZURE_INITIAL_BACKOFF,
            increment_base=2,
            random_jitter_range=1,
            retry_total=retries,
            retry_connect=retries,
            retry_read=retries,
            retry_status=retries,
        )

    def get_backoff_time(self, settings: dict[str, Any]) -> float:
        return min(float(super().get_backoff_time(settings)), MAX_BACKOFF_SECONDS)


class Throttled(ServiceResponseError):
    """429 Too Many Requests, raised by the transport so that the SDK's retry counts and retries it."""


class ThrottledIsRetried(RequestsTransport):  # type: ignore[misc]
    def send(self, request: Any, **kwargs: Any) -> Any:
        response = super().send(request, **kwargs)
        if response.status_code == 429:
            raise Throttled(f"429 Too Many Requests ({request.method} {request.url.split('?')[0]})")
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
    from azure.storage.blob import BlobServiceClient

    session = requests.Session()
    adapter = requests.adapters.HTTPAdapter(pool_connections=workers + 4, pool_maxsize=workers + 4)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    options: dict[str, Any] = {
        "retry_policy": CappedExponentialRetry(),
        "transport": ThrottledIsRetried(session=session, session_owner=True),
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
