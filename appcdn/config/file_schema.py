"""A JSON Schema of a whole stack file (``stacks/Pulumi.<stack>.yaml``), generated from the config models, so
that editors complete and check the ``appcdn:`` keys (``# yaml-language-server: $schema=…`` in the file).

The file's shape is Pulumi's: the ``appcdn`` keys sit under ``config:`` with an ``appcdn:`` prefix, beside
other namespaces' keys (``cloudflare:apiToken``), and any value may be a ``{secure: …}`` ciphertext where
appcdn takes a secret. An ``appcdn:`` key the models do not know is an error, as it is for ``appcdn plan``.
"""

from __future__ import annotations

import json
from typing import Any

from appcdn.config.fields import NAMESPACE
from appcdn.config.stack import StackConfig

SCHEMA_FILE = "appcdn-stack.schema.json"
"""Shipped beside the stack files (``stacks/``), which point to it."""
SECURE = {
    "type": "object",
    "properties": {"secure": {"type": "string"}},
    "required": ["secure"],
    "additionalProperties": False,
    "description": "a secret, as `pulumi config set --secret` writes it",
}


def _secrets_may_be_secure(node: Any) -> Any:
    """Every secret string (pydantic's ``SecretStr``) may also be written as ``{secure: …}``."""
    if isinstance(node, dict):
        if node.get("format") == "password":
            plain = {k: v for k, v in node.items() if k not in ("format", "writeOnly")}
            return {"anyOf": [plain, {"$ref": "#/$defs/Secure"}], **{k: node[k] for k in ("description",) if k in node}}
        return {k: _secrets_may_be_secure(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_secrets_may_be_secure(v) for v in node]
    return node


def stack_file_schema() -> dict[str, Any]:
    model = StackConfig.model_json_schema(ref_template="#/$defs/{model}")
    defs = model.pop("$defs", {})
    keys = {f"{NAMESPACE}:{name}": spec for name, spec in model["properties"].items()}
    known = "|".join(sorted(model["properties"]))
    config = {
        "type": "object",
        "description": "Pulumi config: appcdn's keys (appcdn:…) and other namespaces' (cloudflare:apiToken, …)",
        "properties": keys,
        "required": [f"{NAMESPACE}:sites"],
        "patternProperties": {f"^{NAMESPACE}:(?!({known})$)": {"not": {}, "description": "unknown appcdn key"}},
    }
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "appcdn stack file (Pulumi.<stack>.yaml)",
        "description": model.get("description", ""),
        "type": "object",
        "properties": {"config": config},
        "required": ["config"],
        "$defs": {**defs, "Secure": SECURE},
    }
    result: dict[str, Any] = _secrets_may_be_secure(schema)
    return result


def main() -> None:
    print(json.dumps(stack_file_schema(), indent=2, sort_keys=True))
