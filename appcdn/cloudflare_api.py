"""Every read appcdn makes of the Cloudflare API, in one place, through Cloudflare's official SDK.

Read only: each function is a GET. The SDK takes its credentials from ``CLOUDFLARE_API_TOKEN`` (or
``CLOUDFLARE_API_KEY`` with ``CLOUDFLARE_EMAIL``) and its base URL from ``CLOUDFLARE_BASE_URL``; it retries a
429, a 408, a 409 and a 5xx with exponential backoff (0.5 s doubling, at most 8 s, with jitter), or after the
``Retry-After`` the API sends when that is at most 60 s. Results are the API's JSON as sent, keyed by its own
field names (``status_code_ttl``, ``from``, ``list``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

import cloudflare
from cloudflare import Cloudflare
from cloudflare.types.rulesets import Phase

MAX_RETRIES = 5
PAGE_SIZE = 100
ENTRYPOINT_NOT_FOUND = 10003
"""Cloudflare's error code for "could not find entrypoint ruleset in the <phase> phase" (HTTP 404)."""


class ApiError(Exception):
    """A request that failed, with Cloudflare's own message (never the credentials)."""


def connect() -> Cloudflare:
    """A client configured from the environment, as the SDK reads it."""
    client = Cloudflare(max_retries=MAX_RETRIES)
    if not (client.api_token or client.api_key or client.user_service_key):
        raise ApiError("no Cloudflare credentials: set CLOUDFLARE_API_TOKEN (a token with read access to the zones)")
    return client


def _messages(body: object) -> list[str]:
    errors = body.get("errors") if isinstance(body, dict) else None
    if not isinstance(errors, list) or not errors:
        return []
    return [f"{e.get('message', '')} (code {e.get('code')})" if isinstance(e, dict) else str(e) for e in errors]


def _error_codes(body: object) -> set[object]:
    errors = body.get("errors") if isinstance(body, dict) else None
    return {e.get("code") for e in errors if isinstance(e, dict)} if isinstance(errors, list) else set()


def _failed(what: str, err: cloudflare.APIError) -> ApiError:
    if isinstance(err, cloudflare.APIStatusError):
        said = "; ".join(_messages(err.body)) or str(err.body or "")
        return ApiError(f"{what}: HTTP {err.status_code}: {said}".rstrip(": "))
    if isinstance(err, cloudflare.APIConnectionError):
        return ApiError(f"{what}: cannot reach the Cloudflare API ({err.message})")
    return ApiError(f"{what}: {err.message}")


def _body(response: Any) -> dict[str, Any]:
    """The API's JSON envelope as sent. The SDK's typed models are not used for reading: a ruleset's rules
    are a union its parser may resolve to the wrong action type, losing fields."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise ApiError(
            f"unexpected answer from the Cloudflare API at {response.http_request.url.path}: {response.text()[:200]!r}"
        )
    return body


def _result_list(response: Any) -> list[dict[str, Any]]:
    result = _body(response).get("result") or []
    return [item for item in result if isinstance(item, dict)] if isinstance(result, list) else []


def _every_page(fetch: Callable[[int], Any]) -> list[dict[str, Any]]:
    """The items of every page, fetching page 1, 2, …: until an empty page, or the last page
    ``result_info.total_pages`` names."""
    items: list[dict[str, Any]] = []
    number = 1
    while True:
        body = _body(fetch(number))
        page = body.get("result") or []
        if not isinstance(page, list) or not page:
            return items
        items += [item for item in page if isinstance(item, dict)]
        total_pages = (body.get("result_info") or {}).get("total_pages")
        if isinstance(total_pages, int) and number >= total_pages:
            return items
        number += 1


def entrypoint(client: Cloudflare, zone_id: str, phase: str) -> dict[str, Any] | None:
    """The zone's entry-point ruleset of ``phase`` with its rules; None when the zone has none (404, code 10003)."""
    try:
        response = client.rulesets.phases.with_raw_response.get(cast(Phase, phase), zone_id=zone_id)
    except cloudflare.NotFoundError as err:
        if ENTRYPOINT_NOT_FOUND in _error_codes(err.body):
            return None
        raise _failed(f"reading the {phase} entry point of zone {zone_id}", err) from None
    except cloudflare.APIError as err:
        raise _failed(f"reading the {phase} entry point of zone {zone_id}", err) from None
    result = _body(response).get("result")
    return result if isinstance(result, dict) else None


def dns_records(client: Cloudflare, zone_id: str, name: str) -> list[dict[str, Any]]:
    """Every DNS record of the zone named ``name`` (any type), over every page."""
    try:
        records = _every_page(
            lambda page: client.dns.records.with_raw_response.list(
                zone_id=zone_id, name={"exact": name}, per_page=PAGE_SIZE, page=page
            )
        )
    except cloudflare.APIError as err:
        raise _failed(f"listing the DNS records of {name} in zone {zone_id}", err) from None
    return [r for r in records if str(r.get("name", "")).lower() == name.lower()]


def cloud_connector_rules(client: Cloudflare, zone_id: str) -> list[dict[str, Any]]:
    """The zone's Cloud Connector rules, in their order (an empty list when there are none)."""
    try:
        return _result_list(client.cloud_connector.rules.with_raw_response.list(zone_id=zone_id))
    except cloudflare.APIError as err:
        raise _failed(f"listing the Cloud Connector rules of zone {zone_id}", err) from None


def page_rules(client: Cloudflare, zone_id: str) -> list[dict[str, Any]]:
    """The zone's (legacy) page rules, in priority order."""
    try:
        return _result_list(client.page_rules.with_raw_response.list(zone_id=zone_id))
    except cloudflare.APIError as err:
        raise _failed(f"listing the page rules of zone {zone_id}", err) from None


def zone_id(client: Cloudflare, name: str) -> str | None:
    """The id of the zone named ``name``, or None when the account has no such zone."""
    try:
        zones = _every_page(lambda page: client.zones.with_raw_response.list(name=name, per_page=PAGE_SIZE, page=page))
    except cloudflare.APIError as err:
        raise _failed(f"looking up zone {name}", err) from None
    return next((str(z["id"]) for z in zones if z.get("name") == name), None)
