"""How go-yaml v3 turns a YAML scalar into a value, in Python: the rules the Pulumi CLI reads stack files with.

Pulumi has read stack files with ``gopkg.in/yaml.v3`` since v3.50 (``sdk/go/common/encoding/marshal.go``; the
CLI's ``pkg/go.mod`` pins v3.0.1 in every release we support, pulumi >= 3.190). Every rule below cites
go-yaml v3.0.1 (github.com/go-yaml/yaml, tag v3.0.1, commit f6f7691b1fde), ``resolve.go`` unless another file
is named. YAML 1.2 core schema with go-yaml's own choices: ``y``/``n``/``yes``/``no``/``on``/``off`` are strings
(resolve.go:52-53 lists only true/True/TRUE/false/False/FALSE), base-60 numbers such as ``1:00:00`` are strings
(resolve.go:165-167), ``017`` is octal like ``0o17`` (resolve.go:192 ``strconv.ParseInt(plain, 0, 64)``, :233-236),
an unquoted date is a timestamp (resolve.go:180-189, :294-325).
"""

from __future__ import annotations

import calendar
import math
import re
from dataclasses import dataclass
from decimal import Decimal

LONG_TAG_PREFIX = "tag:yaml.org,2002:"  # resolve.go:94
SCALAR_TAGS = ("!!str", "!!int", "!!float", "!!bool", "!!null")
"""The explicit scalar tags a stack file may use; every other tag is refused (see ``stack_yaml``)."""

# resolve.go:52-58: the whole table of words; anything else starting with these letters is a string.
_WORDS: dict[str, tuple[str, object]] = {
    **dict.fromkeys(("true", "True", "TRUE"), ("!!bool", True)),
    **dict.fromkeys(("false", "False", "FALSE"), ("!!bool", False)),
    **dict.fromkeys(("", "~", "null", "Null", "NULL"), ("!!null", None)),
    **dict.fromkeys((".nan", ".NaN", ".NAN"), ("!!float", math.nan)),
    **dict.fromkeys((".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF"), ("!!float", math.inf)),
    **dict.fromkeys(("-.inf", "-.Inf", "-.INF"), ("!!float", -math.inf)),
    "<<": ("!!merge", "<<"),
}
_HINTS = {**dict.fromkeys("+-", "S"), **dict.fromkeys("0123456789", "D"), **dict.fromkeys("yYnNtTfFoO~", "M"), ".": "."}
_YAML_FLOAT = re.compile(r"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")  # resolve.go:124
_GO_FLOAT_DOT = re.compile(r"^\.[0-9](_?[0-9])*([eE][-+]?[0-9](_?[0-9])*)?$")  # strconv.ParseFloat on ".5e3"
_DIGITS = {2: "01", 8: "01234567", 10: "0123456789", 16: "0123456789abcdefABCDEF"}
INT64_MIN, INT64_MAX, UINT64_MAX = -(2**63), 2**63 - 1, 2**64 - 1


@dataclass(frozen=True)
class GoTime:
    """A ``time.Time`` from an unquoted timestamp. Pulumi passes it on as ``Time.String()``
    (sdk/go/common/resource/config/object.go ``unmarshalObject``: ``case time.Time: v.String()``)."""

    year: int
    month: int
    day: int
    hour: int = 0
    minute: int = 0
    second: int = 0
    nanosecond: int = 0
    offset: int = 0
    """Seconds east of UTC. 0 is shown as UTC, as on a machine whose local zone is UTC; any other offset gets
    Go's unnamed fixed zone (``-0500 -0500``), as ``time.Parse`` does when the local zone differs."""

    def go_string(self) -> str:
        """Go's ``Time.String()``: ``2006-01-02 15:04:05.999999999 -0700 MST``."""
        fraction = f".{self.nanosecond:09d}".rstrip("0") if self.nanosecond else ""
        sign, minutes = ("-" if self.offset < 0 else "+"), abs(self.offset) // 60
        numeric = f"{sign}{minutes // 60:02d}{minutes % 60:02d}"
        return (
            f"{self.year:04d}-{self.month:02d}-{self.day:02d} {self.hour:02d}:{self.minute:02d}:"
            f"{self.second:02d}{fraction} {numeric} {'UTC' if self.offset == 0 else numeric}"
        )


_TIMESTAMP = re.compile(  # resolve.go:294-301, the four layouts, read as Go's time.Parse reads them
    r"^(\d{4})-(\d{1,2})-(\d{1,2})"
    r"(?:(?:([Tt])|( ))(\d{1,2}):(\d{1,2}):(\d{1,2})(?:[.,](\d+))?(Z|[+-]\d{2}:\d{2})?)?$"
)


def parse_timestamp(text: str) -> GoTime | None:
    """resolve.go:306-325 (``parseTimestamp``) with Go's ``time.Parse`` range checks; None if not a timestamp."""
    found = _TIMESTAMP.match(text)
    if not found:
        return None
    year, month, day, _tee, space, hour, minute, second, fraction, zone = found.groups()
    if hour is not None and (zone is None) != (space is not None):  # 'T' needs a zone, ' ' takes none
        return None
    y, mo, d = int(year), int(month), int(day)
    if not 1 <= mo <= 12 or not 1 <= d <= calendar.monthrange(y, mo)[1]:
        return None
    if hour is None:
        return GoTime(y, mo, d)
    h, mi, s = int(hour), int(minute), int(second)
    if h > 23 or mi > 59 or s > 59:
        return None
    nanos = int((fraction or "")[:9].ljust(9, "0"))
    offset = 0
    if zone not in (None, "Z"):
        hh, mm = int(zone[1:3]), int(zone[4:6])
        if hh > 24 or mm > 60:
            return None
        offset = (hh * 60 + mm) * 60 * (-1 if zone[0] == "-" else 1)
    return GoTime(y, mo, d, h, mi, s, nanos, offset)


def parse_go_int(text: str, signed: bool = True) -> int | None:
    """Go's ``strconv.ParseInt(s, 0, 64)`` (or ``ParseUint`` when not ``signed``): base prefixes 0x, 0o, 0b,
    and a leading 0 for octal; None when Go reports an error (syntax or range)."""
    sign, body = 1, text
    if signed and body[:1] in ("+", "-"):
        sign, body = (-1 if body[0] == "-" else 1), body[1:]
    if not body:
        return None
    base = 10
    if body[0] == "0":
        prefix = body[1:2].lower()
        if len(body) >= 3 and prefix in ("b", "o", "x"):
            base, body = {"b": 2, "o": 8, "x": 16}[prefix], body[2:]
        else:
            base, body = 8, body[1:]
    if any(c not in _DIGITS[base] for c in body):
        return None
    value = sign * int(body or "0", base)
    if signed:
        return value if INT64_MIN <= value <= INT64_MAX else None
    return value if value <= UINT64_MAX else None


def _parse_float(text: str) -> float | None:
    """Go's ``strconv.ParseFloat`` on the decimal forms go-yaml lets through; overflow is an error in Go."""
    value = float(text.replace("_", ""))
    return None if math.isinf(value) else value


class TagMismatch(ValueError):
    """An explicit tag whose value does not resolve to it (resolve.go:150: ``cannot decode %s `%s` as a %s``)."""


def short_tag(tag: str) -> str:
    """resolve.go:96-104."""
    return "!!" + tag[len(LONG_TAG_PREFIX) :] if tag.startswith(LONG_TAG_PREFIX) else tag


def resolve(text: str, tag: str = "") -> tuple[str, object]:
    """resolve.go:126-265: the tag and value of a plain scalar (``tag`` ""), or of one with an explicit tag.
    Values: str, bool, None, int (Go's int, int64 and uint64), float, GoTime."""
    rtag, value = _resolve_untagged(text, tag)
    if tag in ("", rtag, "!!str"):
        return rtag, value
    if tag == "!!float" and rtag == "!!int":  # resolve.go:136-147
        return "!!float", float(value)  # type: ignore[arg-type]
    raise TagMismatch(f"cannot decode {rtag} `{text}` as a {tag}")


def _resolve_untagged(text: str, tag: str) -> tuple[str, object]:
    hint = _HINTS.get(text[:1], "N" if not text else "")
    if not hint or tag == "!!str":
        return "!!str", text
    if text in _WORDS:  # resolve.go:161-163
        return _WORDS[text]
    if hint == "." and _GO_FLOAT_DOT.match(text):  # resolve.go:173-178
        value = _parse_float(text)
        if value is not None:
            return "!!float", value
    if hint in ("D", "S"):  # resolve.go:180-209; the 0b/0o cases of :210-259 are ParseInt base 0 already
        if tag in ("", "!!timestamp"):
            stamp = parse_timestamp(text)
            if stamp is not None:
                return "!!timestamp", stamp
        plain = text.replace("_", "")
        for number in (parse_go_int(plain), parse_go_int(plain, signed=False)):  # resolve.go:192, :200
            if number is not None:
                return "!!int", number
        if _YAML_FLOAT.match(plain):  # resolve.go:204-209
            value = _parse_float(plain)
            if value is not None:
                return "!!float", value
    return "!!str", text


def go_json_float(value: float) -> str:
    """Go's ``encoding/json`` text for a float64 (encode.go ``floatEncoder``): 'f' format between 1e-6 and
    1e21, else 'e' with a two-digit exponent cut to one (``1e-07`` → ``1e-7``)."""
    if value == 0:
        return "-0" if math.copysign(1, value) < 0 else "0"
    if 1e-6 <= abs(value) < 1e21:
        text = format(Decimal(repr(value)), "f")
        return text.rstrip("0").rstrip(".") if "." in text else text
    mantissa, exponent = repr(value).replace("E", "e").split("e") if "e" in repr(value) else (repr(value), "0")
    mantissa = mantissa[:-2] if mantissa.endswith(".0") else mantissa
    sign = "-" if exponent.startswith("-") else "+"
    digits = exponent.lstrip("+-").lstrip("0").rjust(1, "0")
    return f"{mantissa}e{sign}{digits.rjust(2, '0') if sign == '+' else digits}"
