"""The rules we emit (pulumi-cloudflare's input form) next to the Cloudflare API's own form, both ways.

pulumi-cloudflare v6 bridges terraform-provider-cloudflare v5, whose attribute names are the API's; the
bridge pluralises list-valued names and the Python SDK avoids a keyword, so a few keys differ:

| provider input | API |
|---|---|
| ``status_code_ttls`` | ``status_code_ttl`` |
| ``lists`` (query string include/exclude) | ``list`` |
| ``from_`` (status code range) | ``from`` |
| ``cloud_connector_rules_provider`` (Cloud Connector rule) | ``provider`` |

On read, the provider also turns the API's bare-array form of a query string (``"include": ["a"]``, the
form of the API documentation's example ``"include": ["*"]``) into ``{"list": [...]}``, and ``include: ["*"]``
into ``{"all": true}`` (terraform-provider-cloudflare ``internal/services/ruleset/resource.go``,
``transformQueryStringJSON``; note that a bare ``exclude: ["*"]`` becomes ``{"list": ["*"]}``, a parameter
literally named ``*``, issue #6087). ``provider_read`` does the same, so that a rule read back can be held
against the rule we send.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

TO_API = {
    "status_code_ttls": "status_code_ttl",
    "lists": "list",
    "from_": "from",
    "cloud_connector_rules_provider": "provider",
}
FROM_API = {api: ours for ours, api in TO_API.items()}
SERVER_FIELDS = frozenset({"id", "version", "last_updated"})
"""Fields of a rule the API adds on its own; computed outputs in the provider, never part of a diff."""


def _renamed(value: Any, names: Mapping[str, str]) -> Any:
    if isinstance(value, Mapping):
        return {names.get(k, k): _renamed(v, names) for k, v in value.items()}
    if isinstance(value, list):
        return [_renamed(v, names) for v in value]
    return value


def to_api(rule: Mapping[str, Any]) -> dict[str, Any]:
    """A rule (or action parameters) as we send it → the API's JSON."""
    api: dict[str, Any] = _renamed(rule, TO_API)
    return api


def _query_string_read(query_string: Mapping[str, Any]) -> dict[str, Any]:
    read = dict(query_string)
    include, exclude = read.get("include"), read.get("exclude")
    if isinstance(include, list):
        read["include"] = {"all": True} if include == ["*"] else {"list": include}
    if isinstance(exclude, list):
        read["exclude"] = {"list": exclude}
    return read


def provider_read(rule: Mapping[str, Any]) -> dict[str, Any]:
    """A rule as the API returns it → what the provider keeps in state, in our input form, without the
    fields the API computes."""
    read = {k: v for k, v in rule.items() if k not in SERVER_FIELDS}
    params = read.get("action_parameters")
    if isinstance(params, Mapping):
        custom_key = (params.get("cache_key") or {}).get("custom_key") or {}
        if isinstance(custom_key.get("query_string"), Mapping):
            params = {
                **params,
                "cache_key": {
                    **params["cache_key"],
                    "custom_key": {**custom_key, "query_string": _query_string_read(custom_key["query_string"])},
                },
            }
        read["action_parameters"] = params
    ours: dict[str, Any] = _renamed(read, FROM_API)
    return ours


def action_settings(rule: Mapping[str, Any]) -> dict[str, Any]:
    """The settings an API rule makes, in our form: its action parameters as the provider reads them."""
    params = provider_read(rule).get("action_parameters")
    return dict(params) if isinstance(params, Mapping) else {}
