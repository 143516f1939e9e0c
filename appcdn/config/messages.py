"""pydantic's validation errors as problems in our words: what the file said, how to write it instead, and never
a value that is, or may be, secret.

Values are shown as YAML writes them (``true``, ``null``, ``'text'``). Where the stack file was read from disk,
the problem says what was written when YAML read it as something else than text (``tls_1_3: true`` is a
boolean, ``min_tls_version: 1.2`` a number) and how to quote it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from appcdn.config.key_material import looks_like_key_material, redacted
from appcdn.config.problems import Problem
from appcdn.config.pulumi_yaml.stack_yaml import Span

SecretTest = Callable[[str], bool]
"""Whether a path (``sites[0].certificates[0].private_key``) holds a value given as a secret."""
SECRET_FIELD_NAMES = ("certificate", "private_key", "url")
"""Fields that hold secrets wherever they appear (a Redis URL carries a password); their values are never shown."""
M = TypeVar("M", bound=BaseModel)
REMOVED_KEYS = {
    "owner": "unknown key: a zone is owned by the one stack file that declares it under zones; declare it there "
    "only, and refer to it by name (sites[].zone) from the other stages' files",
    "other_stages": "unknown key: each stage declares its own hosts, cache, images and media in its own stack "
    "file, and the zone's owner composes them from there",
}
"""Keys of earlier versions, with where their facts live now."""

_KIND = {
    bool: "a boolean",
    int: "a number",
    float: "a number",
    type(None): "null (no value)",
    str: "text",
    list: "a list",
    dict: "a map",
}
_EXPECTED = {
    "string_type": "text",
    "int_type": "a whole number",
    "bool_type": "true or false",
    "float_type": "a number",
    "list_type": "a list",
    "dict_type": "a map",
    "model_type": "a map",
    "model_attributes_type": "a map",
}
_OLD_BOOLEANS = ("y", "n", "yes", "no", "on", "off")
_RANGE = {
    "greater_than_equal": ">= {ge}",
    "greater_than": "> {gt}",
    "less_than_equal": "<= {le}",
    "less_than": "< {lt}",
    "too_short": "at least {min_length} item(s)",
    "too_long": "at most {max_length} item(s)",
}


def shown(value: object) -> str:
    """A value as YAML writes it, for messages."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, (list, dict)):
        return _KIND[type(value)]
    return repr(value)


def may_be_secret(path: str, value: object, secret: SecretTest) -> bool:
    """Given as a secret, in a secret field, or text that looks like key material or a URL with credentials: never
    echoed."""
    field = re.sub(r"(\[\d+\])+$", "", path).rsplit(".", 1)[-1]
    looks_secret = isinstance(value, str) and ("\n" in value or len(value) > 200 or looks_like_key_material(value))
    return secret(path) or field in SECRET_FIELD_NAMES or looks_secret


def loc_path(loc: tuple[int | str, ...], prefix: str = "") -> str:
    out = prefix
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif "[" in part or "(" in part:  # pydantic's names for union members and validators
            continue
        else:
            out += f".{part}" if out else str(part)
    return out


def _as_written(path: str, value: object, span: Span | None, choices: list[str] | None) -> str:
    """What the file said, when YAML read an unquoted word as something else than text, and how to write it as
    text (``choices``: the allowed words; None: the field takes no text, so only what was written is said)."""
    if span is None or not span.plain or span.text is None:
        return ""
    key = re.sub(r"(\[\d+\])+$", "", path).rsplit(".", 1)[-1]
    if isinstance(value, str):  # an unquoted date, which Pulumi passes on as Go's time text
        return (
            f' (the file says {span.text}, which Pulumi passes on as {value!r}; quote it: {key}: "{span.text}")'
            if span.text != value
            else ""
        )
    said = f" (the file says {span.text or '(nothing)'}, which YAML reads as {_KIND.get(type(value), 'a value')}"
    if choices is None:
        return f"{said})" if span.text != shown(value) else ""
    if span.text in choices or not choices:
        return f'{said}, not text; quote it: {key}: "{span.text}")'
    allowed = ", ".join(repr(c) for c in choices)
    return f'{said}, not text; write one of {allowed} in quotes, e.g. {key}: "{choices[0]}")'


def problem_of(error: ErrorDetails, prefix: str, spans: Mapping[str, Span], secret: SecretTest) -> Problem:
    """One pydantic error, in our words, at its key path."""
    path, kind, message = loc_path(error["loc"], prefix), error["type"], error["msg"]
    value = error.get("input")
    hidden = may_be_secret(path, value, secret)
    what = "the value (not shown: it may be secret)" if hidden else shown(value)
    spans = {} if hidden else spans
    context = error.get("ctx") or {}
    if kind == "extra_forbidden":
        return Problem(path, REMOVED_KEYS.get(path.rsplit(".", 1)[-1], "unknown key"))
    if kind == "missing":
        return Problem(path, "Field required")
    if kind == "literal_error":
        choices = re.findall(r"'([^']*)'", str(context.get("expected", "")))
        allowed = message.removeprefix("Input should be ")
        return Problem(path, f"{what} is not allowed; {allowed}{_as_written(path, value, spans.get(path), choices)}")
    if kind in _EXPECTED:
        text = _as_written(path, value, spans.get(path), [] if kind == "string_type" else None)
        if kind == "bool_type" and isinstance(value, str) and value.lower() in _OLD_BOOLEANS:
            text = " (Pulumi reads yes/no/on/off as text, as YAML 1.2 does: write true or false)"
        got = (
            f"{what} is {_KIND.get(type(value), 'a value')}"
            if not isinstance(value, (list, dict))
            else f"got {_KIND[type(value)]}"
        )
        return Problem(path, f"{got}; should be {_EXPECTED[kind]}{text}")
    if kind in _RANGE:
        return Problem(path, f"{what} should be {_RANGE[kind].format(**context)}")
    if message.startswith("Value error, "):
        detail = message.removeprefix("Value error, ")
        if what.startswith("the value"):
            detail = redacted(detail.split(":")[0])
        return Problem(path, f"{what} {detail}{_as_written(path, value, spans.get(path), [])}")
    return Problem(path, message)


def structure_problems(
    err: ValidationError,
    prefix: str = "",
    spans: Mapping[str, Span] | None = None,
    secret: SecretTest = lambda path: False,
) -> list[Problem]:
    return [problem_of(e, prefix, spans or {}, secret) for e in err.errors()]


def validate_partially(
    model: type[M],
    data: Any,
    prefix: str,
    spans: Mapping[str, Span] | None = None,
    secret: SecretTest = lambda path: False,
) -> tuple[M | None, list[Problem]]:
    """The model, and its problems. When it has problems, the model without its broken keys (their defaults
    instead), so the meaning checks still run on the rest; None when a required key is broken."""
    try:
        return model.model_validate(data), []
    except ValidationError as err:
        problems = structure_problems(err, prefix, spans, secret)
        if not isinstance(data, Mapping):
            return None, problems
        broken = {e["loc"][0] for e in err.errors() if e["loc"]}
        try:
            return model.model_validate({k: v for k, v in data.items() if k not in broken}), problems
        except ValidationError:
            return None, problems
