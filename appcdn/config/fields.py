"""Value types shared by the config models: names, hosts, paths, globs, each checked with a clear message."""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from typing import Annotated, Literal

import octorules_wirefilter
from pydantic import AfterValidator, BaseModel, ConfigDict, field_validator

from appcdn.config.key_material import looks_like_key_material
from appcdn.config.regions import AWS_REGIONS, AZURE_LOCATIONS

MAX_EXPRESSION_LENGTH = 4096
"""Cloudflare's limit on one rule's expression, in characters.
https://developers.cloudflare.com/ruleset-engine/rules-language/expressions/#maximum-rule-expression-length"""

NAMESPACE = "appcdn"
"""The Pulumi config namespace of every key appcdn reads (``appcdn:sites``)."""

Stage = Literal["test", "live"]
STAGES: tuple[Stage, ...] = ("test", "live")

METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")

NAME_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,30}$")
# RFC 1123 host names; https://datatracker.ietf.org/doc/html/rfc1123#section-2.1
HOST_RE = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
# RFC 9110 token; https://www.rfc-editor.org/rfc/rfc9110#section-5.1
HEADER_NAME_RE = re.compile(r"^[a-z0-9!#$%&'*+.^_`|~-]+$")
# RFC 6265 cookie-name (a token); https://www.rfc-editor.org/rfc/rfc6265#section-4.1.1
COOKIE_NAME_RE = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]+$")
EXTENSION_RE = re.compile(r"^[a-z0-9]{1,16}$")
SEGMENT_RE = re.compile(r"^[a-z0-9._~!$&'()+,;=:@%-]+$")
# https://url.spec.whatwg.org/#application/x-www-form-urlencoded: a name is any run of characters but '&' and '='
QUERY_ARG_RE = re.compile(r"^[A-Za-z0-9._~!$'()*+,;:@%/?-]+$")
# An RFC 3986 path, with '*' as the only wildcard; https://www.rfc-editor.org/rfc/rfc3986#section-3.3
PATH_RE = re.compile(r"^/[A-Za-z0-9._~!$&'()+,;=:@%/-]*$")
GLOB_RE = re.compile(r"^/[A-Za-z0-9._~!$&'()+,;=:@%/*-]*$")
METHOD_RE = re.compile("^(" + "|".join(METHODS) + ")$")
OBJECT_GLOB_RE = re.compile(r"^(?!/)[A-Za-z0-9._~!$&'()+,;=:@%/*-]+$")
OBJECT_PREFIX_RE = re.compile(r"^[A-Za-z0-9._~!$&'()+,;=:@%-][A-Za-z0-9._~!$&'()+,;=:@%/-]*/$")
# https://docs.aws.amazon.com/AmazonS3/latest/userguide/general-purpose-bucket-naming-rules.html
BUCKET_RE = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
BUCKET_RESERVED_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
BUCKET_RESERVED_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")
# https://learn.microsoft.com/azure/azure-resource-manager/management/resource-name-rules#microsoftresources
RESOURCE_GROUP_RE = re.compile(r"^[-\w._()]{0,89}[-\w_()]$")
# EC2 resource ids: the prefix and 8 (older) or 17 hexadecimal digits
# https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/resource-ids.html
SUBNET_ID_RE = re.compile(r"^subnet-([0-9a-f]{8}|[0-9a-f]{17})$")
SECURITY_GROUP_ID_RE = re.compile(r"^sg-([0-9a-f]{8}|[0-9a-f]{17})$")
# https://learn.microsoft.com/azure/storage/common/storage-account-overview#storage-account-name
CLOUDFLARE_ID_RE = re.compile(r"^[0-9a-f]{32}$")
ACCOUNT_RE = re.compile(r"^[a-z0-9]{3,24}$")


class Strict(BaseModel):
    """Base of every config node: unknown keys are errors, values are immutable and of the declared type."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)
    """Strict: no quiet conversions (``true`` is no number, ``'on'`` no boolean), as the stack file says it."""

    @field_validator("*", mode="after", check_fields=False)
    @classmethod
    def _no_key_material(cls, value: object) -> object:
        """No text of a field that is not secret holds key material: the plan, its JSON and the diff print those
        fields, and the providers get them in plain text (secrets are ``SecretStr`` fields, not text)."""
        texts = [value] if isinstance(value, str) else value if isinstance(value, (list, tuple)) else []
        if isinstance(value, dict):
            texts = [*value, *value.values()]
        if any(isinstance(text, str) and looks_like_key_material(text) for text in texts):
            raise ValueError(
                "looks like key material (a PEM block, a token or a URL with credentials); secrets go only in "
                "certificate, private_key and redis url, set with pulumi config set --secret"
            )
        return value


def _checked(pattern: re.Pattern[str], what: str, normalise: Callable[[str], str] = lambda v: v) -> AfterValidator:
    def check(value: str) -> str:
        value = normalise(value)
        if not pattern.match(value):
            raise ValueError(f"is not {what}")  # the value is shown by the message, unless it may be secret
        return value

    check.__doc__ = what  # the value's kind, in words, for the generated config reference
    return AfterValidator(check)


def _check_expression(value: str) -> str:
    """A Cloudflare rules expression, as Cloudflare's own parser (wirefilter) reads it.
    https://developers.cloudflare.com/ruleset-engine/rules-language/expressions/"""
    error = octorules_wirefilter.parse_expression(value).get("error")
    if error or not value.strip():
        raise ValueError(f"is not a valid Cloudflare rules expression: {wirefilter_reason(error or '')}")
    if len(value) > MAX_EXPRESSION_LENGTH:
        raise ValueError(
            f"is {len(value)} characters long; Cloudflare takes at most {MAX_EXPRESSION_LENGTH} for a "
            "rule's whole expression"
        )
    return value


def wirefilter_reason(error: str) -> str:
    """wirefilter's reason and where (``unknown identifier 'http.foo' at 1:1``), from its three-line report:
    ``Filter parsing error (line:column):``, the source line, carets under the culprit followed by the reason."""
    lines = error.splitlines()
    position = re.search(r"\((\d+:\d+)\)", lines[0]) if lines else None
    carets = re.match(r"^(\s*)(\^+)\s*(.*)$", lines[2]) if len(lines) > 2 else None
    if not carets:
        return error.strip() or "empty"
    start, width = len(carets.group(1)), len(carets.group(2))
    culprit = lines[1][start : start + width]
    where = f" at {position.group(1)}" if position else ""
    return f"{carets.group(3) or 'invalid'} {culprit!r}{where}" if culprit.strip() else f"{carets.group(3)}{where}"


Name = Annotated[str, _checked(NAME_RE, "a name (lower-case letters, digits and '-', at most 31)")]
Host = Annotated[str, _checked(HOST_RE, "a host name (a DNS name such as www.example.com)", str.lower)]
PathPrefix = Annotated[str, _checked(PATH_RE, "a path prefix: it must start with '/' and hold no quotes or spaces")]
PathGlob = Annotated[
    str,
    _checked(
        GLOB_RE,
        "a valid path glob: it must start with '/'; '*' is the only wildcard ('?', '[' and quotes are not allowed)",
    ),
]
Extension = Annotated[
    str, _checked(EXTENSION_RE, "a file extension (letters and digits, e.g. 'css')", lambda v: v.lower().lstrip("."))
]
PathSegment = Annotated[str, _checked(SEGMENT_RE, "a path segment (no '/'), compared in lower case", str.lower)]
QueryArg = Annotated[str, _checked(QUERY_ARG_RE, "a query argument name (no '&', '=' or spaces)")]
Method = Annotated[str, _checked(METHOD_RE, f"an HTTP method; allowed: {', '.join(METHODS)}", str.upper)]
CookieName = Annotated[str, _checked(COOKIE_NAME_RE, "a cookie name")]
HeaderName = Annotated[str, _checked(HEADER_NAME_RE, "a header name", str.lower)]
Expression = Annotated[str, AfterValidator(_check_expression)]
ObjectGlob = Annotated[
    str,
    _checked(
        OBJECT_GLOB_RE,
        "a valid object-key glob such as 'filer_public_thumbnails/*': no leading '/';"
        " '*' is the only wildcard ('?', '[' and quotes are not allowed)",
    ),
]
ObjectPrefix = Annotated[
    str, _checked(OBJECT_PREFIX_RE, "an object-key prefix such as 'filer_public/' (ends with '/')")
]


def _check_bucket(value: str) -> str:
    """an S3 bucket name (3-63 lower-case letters, digits and '-')"""
    if not BUCKET_RE.match(value):
        raise ValueError(
            "is not an S3 bucket name (3-63 lower-case letters, digits and '-', starting and ending "
            "with a letter or digit)"
        )
    if re.fullmatch(r"\d+\.\d+\.\d+\.\d+", value):
        raise ValueError("is formatted like an IP address, which S3 does not allow for a bucket name")
    if ".." in value:
        raise ValueError("has two adjacent periods, which S3 does not allow in a bucket name")
    reserved = [p for p in BUCKET_RESERVED_PREFIXES if value.startswith(p)] + [
        s for s in BUCKET_RESERVED_SUFFIXES if value.endswith(s)
    ]
    if reserved:
        raise ValueError(f"uses {reserved[0]!r}, which S3 reserves")
    if "." in value:
        raise ValueError(
            "has a '.', which breaks HTTPS on the bucket's virtual-hosted endpoint "
            "(<bucket>.s3.<region>.amazonaws.com), the one Cloud Connector and the app use; use '-'"
        )
    return value


def _known(names: frozenset[str], what: str, normalise: Callable[[str], str] = lambda v: v) -> AfterValidator:
    def check(value: str) -> str:
        if normalise(value) not in names:
            close = difflib.get_close_matches(normalise(value), sorted(names), n=1)
            raise ValueError(f"is not {what}" + (f" (did you mean {close[0]!r}?)" if close else ""))
        return value

    check.__doc__ = what
    return AfterValidator(check)


BucketName = Annotated[str, AfterValidator(_check_bucket)]
AwsRegion = Annotated[str, _known(AWS_REGIONS, "an AWS region (as the AWS provider SDK lists them)")]
AzureLocation = Annotated[
    str, _known(AZURE_LOCATIONS, "an Azure location (such as westeurope)", lambda v: v.lower().replace(" ", ""))
]
ResourceGroupName = Annotated[
    str,
    _checked(
        RESOURCE_GROUP_RE, "a resource group name (1-90 letters, digits, '_', '-', '.', '(' and ')', not ending in '.')"
    ),
]
SubnetId = Annotated[
    str, _checked(SUBNET_ID_RE, "a VPC subnet id ('subnet-' and 8 or 17 hexadecimal digits, e.g. subnet-0a1b2c3d)")
]
SecurityGroupId = Annotated[
    str, _checked(SECURITY_GROUP_ID_RE, "a security group id ('sg-' and 8 or 17 hexadecimal digits, e.g. sg-0a1b2c3d)")
]
AccountName = Annotated[str, _checked(ACCOUNT_RE, "a storage account name (3-24 lower-case letters and digits)")]


def in_zone(host: str, zone: str) -> bool:
    """Whether ``host`` is the zone's apex or a name under it."""
    return host == zone or host.endswith("." + zone)
