"""The header values a site's media rules write onto stored objects (and into the app's settings): each an HTTP
field value (RFC 9110, section 5.5), and each in its header's own grammar: Cache-Control directives
(RFC 9111, section 5.2; stale-* from RFC 5861, immutable from RFC 8246), Content-Disposition (RFC 6266) and
Content-Language (RFC 9110, section 8.5). Messages name what is wrong without echoing the value."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator

TOKEN_RE = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]+$")
"""RFC 9110 token (section 5.6.2)."""
_QUOTED_RE = re.compile(r'^"(?:[^"\\]|\\.)*"$')
_LANGUAGE_TAG_RE = re.compile(r"^[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*$")
SECONDS_DIRECTIVES = ("max-age", "s-maxage", "stale-while-revalidate", "stale-if-error")
FIELD_LIST_DIRECTIVES = ("no-cache", "private")
"""Directives that may name header fields (``private="set-cookie"``), or stand alone."""
PLAIN_DIRECTIVES = (
    "public",
    "no-store",
    "no-transform",
    "must-revalidate",
    "proxy-revalidate",
    "must-understand",
    "immutable",
)
DIRECTIVES = (*SECONDS_DIRECTIVES, *FIELD_LIST_DIRECTIVES, *PLAIN_DIRECTIVES)


def _field_value(value: str) -> str:
    """RFC 9110 section 5.5: visible ASCII, spaces and tabs, not empty, no leading or trailing whitespace. A line
    break would end the header and start another (header injection)."""
    if not value.strip():
        raise ValueError("is empty; an HTTP header needs a value")
    for char in value:
        if char in "\r\n":
            raise ValueError(
                "holds a line break (CR or LF), which would end the header and start another; a header value is "
                "printable ASCII, spaces and tabs (RFC 9110, section 5.5)"
            )
        if not (" " <= char <= "~" or char == "\t"):
            kind = "a control character" if ord(char) < 0x80 else "a character outside ASCII"
            raise ValueError(
                f"holds {kind} (U+{ord(char):04X}); a header value is printable ASCII, spaces and tabs "
                "(RFC 9110, section 5.5)"
            )
    if value != value.strip(" \t"):
        raise ValueError("starts or ends with whitespace, which HTTP strips (RFC 9110, section 5.5)")
    return value


def _list(value: str) -> list[str]:
    """A comma-separated list's members (RFC 9110 section 5.6.1); an empty member is refused, not skipped."""
    members = [member.strip(" \t") for member in value.split(",")]
    if "" in members:
        raise ValueError("has an empty member (two commas, or a comma at an end)")
    return members


def check_cache_control(value: str) -> str:
    """Cache-Control directives, each once: max-age=<s>, public or private, no-cache, no-store, immutable, …"""
    seen: set[str] = set()
    for member in _list(_field_value(value)):
        name, _, argument = member.partition("=")
        name = name.strip(" \t").lower()
        if name not in DIRECTIVES:
            shown = repr(name) if TOKEN_RE.match(name) and len(name) <= 32 else "a directive"
            raise ValueError(
                f"has {shown}, which is no Cache-Control directive; the directives are {', '.join(DIRECTIVES)}"
            )
        if name in seen:
            # RFC 9111 section 4.2.1: with a directive given twice a cache uses the first or treats it as stale
            raise ValueError(f"gives {name} twice; caches then use the first or none (RFC 9111, section 4.2.1)")
        seen.add(name)
        argument = argument.strip(" \t")
        if name in SECONDS_DIRECTIVES and not argument.isdigit():
            raise ValueError(f"needs {name}=<whole seconds, 0 or more> (RFC 9111, section 1.2.2)")
        if name in FIELD_LIST_DIRECTIVES and "=" in member and not _QUOTED_RE.match(argument):
            raise ValueError(f'names header fields after {name} in quotes ({name}="set-cookie"), or nothing')
        if name in PLAIN_DIRECTIVES and "=" in member:
            raise ValueError(f"gives {name} a value; it takes none")
    if {"public", "private"} <= seen:
        raise ValueError("says both public and private; a response is one or the other")
    return value


def check_content_disposition(value: str) -> str:
    """inline or attachment, with parameters such as filename="a.pdf" (RFC 6266)"""
    kind, *parameters = [part.strip(" \t") for part in _field_value(value).split(";")]
    if kind.lower() not in ("inline", "attachment"):
        raise ValueError("must start with inline or attachment (RFC 6266, section 4.2)")
    for parameter in parameters:
        name, equals, argument = parameter.partition("=")
        if (
            not equals
            or not TOKEN_RE.match(name.strip(" \t"))
            or not (TOKEN_RE.match(argument.strip(" \t")) or _QUOTED_RE.match(argument.strip(" \t")))
        ):
            raise ValueError('has a parameter that is not name=value or name="value" (RFC 6266, section 4.1)')
    return value


def check_content_language(value: str) -> str:
    """language tags such as de or en-GB, separated by commas (RFC 9110 section 8.5, BCP 47)"""
    for member in _list(_field_value(value)):
        if not _LANGUAGE_TAG_RE.match(member):
            raise ValueError("must be language tags such as de or en-GB, separated by commas (RFC 9110, section 8.5)")
    return value


CacheControl = Annotated[str, AfterValidator(check_cache_control)]
ContentDisposition = Annotated[str, AfterValidator(check_content_disposition)]
ContentLanguage = Annotated[str, AfterValidator(check_content_language)]
