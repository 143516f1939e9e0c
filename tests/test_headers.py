"""Header values of media rules, as written onto stored objects, into the app's settings and the ``django``
outputs: HTTP field values (RFC 9110 section 5.5) in their header's grammar (Cache-Control: RFC 9111 section 5.2,
RFC 5861, RFC 8246; Content-Disposition: RFC 6266; Content-Language: RFC 9110 section 8.5). Refused with the key
path and what is allowed; a value with a line break is never echoed."""

from typing import Any

import pytest

from appcdn.config.headers import DIRECTIVES
from tests.conftest import problems_of, raw_config

HIDDEN = "the value (not shown: it may be secret)"
PATH = "sites[0].media.headers[0]"


def refused(**rule: str) -> list[str]:
    return problems_of(raw_config(media={"backend": "aws", "headers": [{"match": "*", **rule}]}))


def accepted(**rule: str) -> None:
    from tests.conftest import project_of

    project_of(raw_config(media={"backend": "aws", "headers": [{"match": "*", **rule}]}))


RFC_9110_FIELD_VALUE = "a header value is printable ASCII, spaces and tabs (RFC 9110, section 5.5)"


@pytest.mark.parametrize(
    "value,message",
    [
        (
            "public, max-age=3600\r\nSet-Cookie: admin=1",
            f"{HIDDEN} holds a line break (CR or LF), which would end the header and start another; "
            + RFC_9110_FIELD_VALUE,
        ),
        ("public\x00", f"'public\\x00' holds a control character (U+0000); {RFC_9110_FIELD_VALUE}"),
        (
            "public, max-age=3600 \u00fc",
            f"'public, max-age=3600 ü' holds a character outside ASCII (U+00FC); {RFC_9110_FIELD_VALUE}",
        ),
        ("", "'' is empty; an HTTP header needs a value"),
        ("  ", "'  ' is empty; an HTTP header needs a value"),
        (" public", "' public' starts or ends with whitespace, which HTTP strips (RFC 9110, section 5.5)"),
        ("max-age=-1", "'max-age=-1' needs max-age=<whole seconds, 0 or more> (RFC 9111, section 1.2.2)"),
        ("public, max-age", "'public, max-age' needs max-age=<whole seconds, 0 or more> (RFC 9111, section 1.2.2)"),
        ("public, private", "'public, private' says both public and private; a response is one or the other"),
        (
            "public, max-age=60, Max-Age=120",
            "'public, max-age=60, Max-Age=120' gives max-age twice; caches then use the first or none "
            "(RFC 9111, section 4.2.1)",
        ),
        (
            "public, public",
            "'public, public' gives public twice; caches then use the first or none (RFC 9111, section 4.2.1)",
        ),
        ("public,, max-age=60", "'public,, max-age=60' has an empty member (two commas, or a comma at an end)"),
        ("public=1", "'public=1' gives public a value; it takes none"),
        (
            "private=set-cookie",
            "'private=set-cookie' names header fields after private in quotes (private=\"set-cookie\"), or nothing",
        ),
        (
            "public, max-age=60, cache-forever",
            "'public, max-age=60, cache-forever' has 'cache-forever', which is no Cache-Control directive; the "
            "directives are " + ", ".join(DIRECTIVES),
        ),
    ],
)
def test_cache_control_is_an_http_field_value_of_known_directives_each_once(value: str, message: Any) -> None:
    assert refused(cache_control=value) == [f"{PATH}.cache_control: {message}"]


@pytest.mark.parametrize(
    "value",
    [
        "public, max-age=31536000",
        "private, no-store",
        'no-cache="set-cookie"',
        "public, max-age=60, s-maxage=120, stale-while-revalidate=30, stale-if-error=600, immutable",
        "no-cache, must-revalidate, proxy-revalidate, no-transform, must-understand, no-store",
        "Public,\tMax-Age=0",
    ],
)
def test_cache_control_as_caches_read_it_is_accepted(value: str) -> None:
    accepted(cache_control=value)


@pytest.mark.parametrize(
    "value,message",
    [
        ("attachment\r\nSet-Cookie: a=1", f"{HIDDEN} holds a line break (CR or LF)"),
        ("download", "'download' must start with inline or attachment (RFC 6266, section 4.2)"),
        ("attachment; filename", "'attachment; filename' has a parameter that is not name=value"),
        ("attachment; file name=a.pdf", "'attachment; file name=a.pdf' has a parameter that is not name=value"),
        ("", "'' is empty; an HTTP header needs a value"),
    ],
)
def test_content_disposition_is_inline_or_attachment_with_parameters(value: str, message: str) -> None:
    [problem] = refused(cache_control="public, max-age=60", content_disposition=value)
    assert problem.startswith(f"{PATH}.content_disposition: {message}")


@pytest.mark.parametrize(
    "value", ["attachment", "inline", 'attachment; filename="a b.pdf"', "Attachment; filename=a.pdf"]
)
def test_content_disposition_as_rfc_6266_writes_it_is_accepted(value: str) -> None:
    accepted(cache_control="public, max-age=60", content_disposition=value)


@pytest.mark.parametrize(
    "value,message",
    [
        ("de\nX-Evil: 1", f"{HIDDEN} holds a line break (CR or LF)"),
        ("deutsch sprache", "'deutsch sprache' must be language tags such as de or en-GB, separated by commas"),
        ("de,", "'de,' has an empty member (two commas, or a comma at an end)"),
        ("d\u00e9", "'dé' holds a character outside ASCII (U+00E9)"),
    ],
)
def test_content_language_is_a_list_of_language_tags(value: str, message: str) -> None:
    [problem] = refused(cache_control="public, max-age=60", content_language=value)
    assert problem.startswith(f"{PATH}.content_language: {message}")


@pytest.mark.parametrize("value", ["de", "en-GB, de", "zh-Hant-TW"])
def test_content_language_tags_are_accepted(value: str) -> None:
    accepted(cache_control="public, max-age=60", content_language=value)
