"""What the media policy compiler produces does what we claim, on real S3 and Azure Blob protocol servers.

S3 runs on moto's server, Azure Blob on Azurite (see tests/emulators.py); every check below is a real HTTP
request to one of them. What moto 5.2 checks, read in its source (moto/s3/responses.py ``_key_response``,
moto/iam/access_control.py, moto/iam/policy_conditions.py) and seen in these tests:

- For object requests it evaluates the bucket policy's Allow and Deny statements with their Resource wildcards;
  an anonymous GET of a stored object is refused unless the policy allows it.
- It does not evaluate the ``Bool`` condition (``aws:SecureTransport``): it supports ``StringEquals`` only and
  counts any other condition as met. So our TLS-only Deny applies to every object request, signed ones too,
  and with the whole compiled policy nothing can be read. The public-read statement is therefore checked on its
  own, and the TLS Deny as what it does to a plain-HTTP request (what AWS does to one as well).
- It checks an object request against the action ``s3:<Method>Object``: right for GET and PUT, but a HEAD
  becomes ``s3:HeadObject``, which is no IAM action (AWS checks HEAD as ``s3:GetObject``), so moto refuses an
  anonymous HEAD that our policy allows. Anonymous HEAD is not asserted here.
- Bucket-level requests (ListObjects) and anonymous uploads of new keys never consult the bucket policy, so
  "anonymous list / write is refused" cannot be checked on moto and is not asserted here.
- A preflight to a stored object goes through the anonymous object check (AWS does not do that), so the
  preflight test targets the bucket URL, where moto applies the same CORS rules.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable
from email.message import Message
from typing import Any

import boto3
import pytest
from azure.storage.blob import BlobClient, BlobServiceClient, ContentSettings
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError

from appcdn import defaults
from appcdn.commands.plan.mock_engine import DeclaredResource
from appcdn.config.media import HeaderRule
from appcdn.rules.media import first_match, object_headers
from tests.emulators import (
    create_declared_bucket,
    create_declared_containers,
    declared_media,
    declared_policy,
)

DEFAULT_MEDIA_HEADERS = [HeaderRule.model_validate(h) for h in defaults.MEDIA_HEADERS]

ONE_YEAR = "public, max-age=31536000"
ONE_HOUR = "public, max-age=3600"
THUMBNAIL = "filer_public_thumbnails/2026/07/photo.jpg__400x300_q85_crop.jpg"
PUBLIC_FILE = "filer_public/2026/07/photo.jpg"
PRIVATE_FILE = "filer_private/2026/07/contract.pdf"
EXPECTED_CACHE_CONTROL = {THUMBNAIL: ONE_YEAR, PUBLIC_FILE: ONE_HOUR, PRIVATE_FILE: ONE_HOUR}

MEDIA_DOMAIN = {"host": "media.example.com"}
SITE_ORIGIN = "https://www.example.com"
FOREIGN_ORIGINS = ["http://www.example.com", "https://attacker.example.net"]

_direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def http(method: str, url: str, headers: dict[str, str] | None = None) -> tuple[int, Message]:
    """Status and headers of a plain HTTP request (no SDK, no credentials unless in the URL)."""
    request = urllib.request.Request(url, method=method, headers=headers or {})
    try:
        with _direct.open(request, timeout=10) as response:
            return response.status, response.headers
    except urllib.error.HTTPError as error:
        return error.code, error.headers


# --- S3 (moto) -----------------------------------------------------------------------------------------------


def rule_for(key: str, rules: list[HeaderRule] = DEFAULT_MEDIA_HEADERS) -> HeaderRule:
    rule = first_match(rules, key)
    assert rule is not None, key
    return rule


def s3_put_params(rule: HeaderRule) -> dict[str, str]:
    """boto3 ``put_object`` parameters for the headers of ``rule``: Cache-Control → CacheControl, ..."""
    return {name.replace("-", ""): value for name, value in object_headers(rule).items()}


def status(call: Callable[..., Any], **params: Any) -> int:
    try:
        code: int = call(**params)["ResponseMetadata"]["HTTPStatusCode"]
    except ClientError as error:
        code = error.response["ResponseMetadata"]["HTTPStatusCode"]
    return code


@pytest.fixture(scope="module")
def s3(s3_endpoint: str) -> Any:
    return boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


@pytest.fixture(scope="module")
def anonymous_s3(s3_endpoint: str) -> Any:
    return boto3.client(
        "s3", endpoint_url=s3_endpoint, region_name="us-east-1", config=Config(signature_version=UNSIGNED)
    )


def s3_media(bucket: str, **media: Any) -> list[DeclaredResource]:
    """What S3Media declares for a Live site's media in ``bucket`` (served on the media domain)."""
    return declared_media({"backend": "aws", "aws": {"bucket_name": bucket}, "domain": MEDIA_DOMAIN, **media})


def stored_bucket(s3: Any, declared: list[DeclaredResource], rules: list[HeaderRule] = DEFAULT_MEDIA_HEADERS) -> str:
    """The declared bucket (ownership, public access block, CORS) holding the three sample objects, each uploaded
    with the headers of its first matching rule, as the app uploads them; no bucket policy yet."""
    bucket = create_declared_bucket(s3, declared)
    for key in EXPECTED_CACHE_CONTROL:
        s3.put_object(Bucket=bucket, Key=key, Body=b"media", **s3_put_params(rule_for(key, rules)))
    return bucket


@pytest.fixture(scope="module")
def headers_bucket(s3: Any) -> str:
    """Objects uploaded as the app uploads them, in the bucket S3Media declares, without its policy."""
    return stored_bucket(s3, s3_media("media-headers"))


@pytest.fixture(scope="module")
def public_read_bucket(s3: Any) -> str:
    """The declared policy's public-read statement alone (moto cannot evaluate the TLS Deny's condition)."""
    declared = s3_media("media-public-read")
    bucket = stored_bucket(s3, declared)
    policy = declared_policy(declared)
    public_read = [s for s in policy["Statement"] if s["Sid"] == "PublicReadOfPublicMedia"]
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({**policy, "Statement": public_read}))
    return bucket


@pytest.fixture(scope="module")
def tls_only_bucket(s3: Any) -> str:
    """The whole declared policy, applied after the uploads (which it would refuse over plain HTTP)."""
    declared = s3_media("media-tls-only")
    bucket = stored_bucket(s3, declared)
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(declared_policy(declared)))
    return bucket


@pytest.mark.parametrize("method", ["GET", "HEAD"])
@pytest.mark.parametrize("key", list(EXPECTED_CACHE_CONTROL))
def test_s3_serves_each_object_with_the_cache_control_of_its_rule(
    s3: Any, headers_bucket: str, key: str, method: str
) -> None:
    operation = "get_object" if method == "GET" else "head_object"
    url = s3.generate_presigned_url(operation, Params={"Bucket": headers_bucket, "Key": key})
    code, headers = http(method, url)
    assert code == 200
    assert headers["Cache-Control"] == EXPECTED_CACHE_CONTROL[key]


def test_s3_thumbnail_gets_the_first_matching_rule_not_the_catch_all_that_matches_too(
    s3: Any, headers_bucket: str
) -> None:
    catch_all = DEFAULT_MEDIA_HEADERS[-1]
    assert first_match([catch_all], THUMBNAIL) is catch_all  # the catch-all matches the thumbnail as well
    code, headers = http(
        "GET", s3.generate_presigned_url("get_object", Params={"Bucket": headers_bucket, "Key": THUMBNAIL})
    )
    assert (code, headers["Cache-Control"]) == (200, ONE_YEAR)


def test_s3_rule_with_disposition_and_language_puts_all_three_headers_on_the_object(s3: Any) -> None:
    rules = [
        HeaderRule(
            match="filer_private/*.pdf",
            cache_control="private, max-age=0",
            content_disposition="attachment",
            content_language="de",
        ),
        *DEFAULT_MEDIA_HEADERS,
    ]
    bucket = stored_bucket(s3, s3_media("media-all-headers"), rules)
    code, headers = http("GET", s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": PRIVATE_FILE}))
    assert code == 200
    assert {name: headers[name] for name in ("Cache-Control", "Content-Disposition", "Content-Language")} == {
        "Cache-Control": "private, max-age=0",
        "Content-Disposition": "attachment",
        "Content-Language": "de",
    }


def test_s3_accepts_the_compiled_bucket_policy_and_returns_it_unchanged(s3: Any, tls_only_bucket: str) -> None:
    stored = json.loads(s3.get_bucket_policy(Bucket=tls_only_bucket)["Policy"])
    assert stored == declared_policy(s3_media(tls_only_bucket))


@pytest.mark.parametrize(
    ("media", "public"),
    [({}, True), ({"public_prefixes": []}, False)],
    ids=["with-public-prefixes", "without-public-prefixes"],
)
def test_s3_reports_the_bucket_public_only_when_there_are_public_prefixes(
    s3: Any, media: dict[str, Any], public: bool
) -> None:
    declared = s3_media(f"media-policy-status-{public}".lower(), **media)
    bucket = create_declared_bucket(s3, declared)
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(declared_policy(declared)))
    assert s3.get_bucket_policy_status(Bucket=bucket)["PolicyStatus"]["IsPublic"] is public


@pytest.mark.parametrize("key", [THUMBNAIL, PUBLIC_FILE])
def test_s3_public_read_lets_anyone_get_objects_under_the_public_prefixes(
    anonymous_s3: Any, public_read_bucket: str, key: str
) -> None:
    assert status(anonymous_s3.get_object, Bucket=public_read_bucket, Key=key) == 200


@pytest.mark.parametrize("key", [PRIVATE_FILE, "filer_public_extra/photo.jpg", "filer_public.jpg", "robots.txt"])
def test_s3_public_read_refuses_anonymous_get_outside_the_public_prefixes(
    s3: Any, anonymous_s3: Any, public_read_bucket: str, key: str
) -> None:
    s3.put_object(Bucket=public_read_bucket, Key=key, Body=b"media")
    assert status(anonymous_s3.get_object, Bucket=public_read_bucket, Key=key) == 403
    assert status(s3.get_object, Bucket=public_read_bucket, Key=key) == 200  # the object is there


def test_s3_tls_only_policy_refuses_every_object_request_over_plain_http(
    s3: Any, anonymous_s3: Any, tls_only_bucket: str
) -> None:
    requests = {
        "anonymous GET of public media": (anonymous_s3.get_object, PUBLIC_FILE),
        "anonymous GET of private media": (anonymous_s3.get_object, PRIVATE_FILE),
        "signed GET": (s3.get_object, PRIVATE_FILE),
        "anonymous PUT": (anonymous_s3.put_object, "filer_public/new.jpg"),
        "signed PUT": (s3.put_object, "filer_public/new.jpg"),
    }
    answers = {name: status(call, Bucket=tls_only_bucket, Key=key) for name, (call, key) in requests.items()}
    assert answers == dict.fromkeys(requests, 403)


def test_s3_cors_allows_a_site_origin_to_read_media(s3: Any, headers_bucket: str) -> None:
    url = s3.generate_presigned_url("get_object", Params={"Bucket": headers_bucket, "Key": PUBLIC_FILE})
    code, headers = http("GET", url, {"Origin": SITE_ORIGIN})
    assert (code, headers["Access-Control-Allow-Origin"]) == (200, SITE_ORIGIN)


@pytest.mark.parametrize("origin", FOREIGN_ORIGINS)
def test_s3_cors_gives_other_origins_no_access_control_headers(s3: Any, headers_bucket: str, origin: str) -> None:
    url = s3.generate_presigned_url("get_object", Params={"Bucket": headers_bucket, "Key": PUBLIC_FILE})
    code, headers = http("GET", url, {"Origin": origin})
    assert code == 200
    assert headers["Access-Control-Allow-Origin"] is None


def test_s3_cors_preflight_from_a_site_origin_allows_get_and_head_only(s3_endpoint: str, headers_bucket: str) -> None:
    code, headers = http(
        "OPTIONS", f"{s3_endpoint}/{headers_bucket}", {"Origin": SITE_ORIGIN, "Access-Control-Request-Method": "GET"}
    )
    assert code == 200
    assert headers["Access-Control-Allow-Origin"] == SITE_ORIGIN
    assert headers["Access-Control-Allow-Methods"] == "GET, HEAD"


@pytest.mark.parametrize("origin", FOREIGN_ORIGINS)
def test_s3_cors_preflight_from_other_origins_is_refused(s3_endpoint: str, headers_bucket: str, origin: str) -> None:
    code, headers = http(
        "OPTIONS", f"{s3_endpoint}/{headers_bucket}", {"Origin": origin, "Access-Control-Request-Method": "GET"}
    )
    assert code == 403
    assert headers["Access-Control-Allow-Origin"] is None


# --- Azure Blob (Azurite) ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def blob_service(azurite_blob: str) -> BlobServiceClient:
    return BlobServiceClient.from_connection_string(azurite_blob)


PUBLIC_CONTAINER, PRIVATE_CONTAINER = defaults.AZURE_PUBLIC_CONTAINER, defaults.AZURE_PRIVATE_CONTAINER


@pytest.fixture(scope="module")
def azure_media(blob_service: BlobServiceClient) -> str:
    """The containers AzureMedia declares with their declared public access (public: anonymous read of blobs,
    not listing; private: none) and the declared CORS rules, the sample blobs uploaded with their rule's cache
    control; returns the account URL."""
    declared = declared_media({"backend": "azure", "azure": {"account_name": "shopmedia"}, "domain": MEDIA_DOMAIN})
    access = create_declared_containers(blob_service, declared)
    assert access == {PRIVATE_CONTAINER: "None", PUBLIC_CONTAINER: "Blob"}
    for container, key in [
        (PUBLIC_CONTAINER, THUMBNAIL),
        (PUBLIC_CONTAINER, PUBLIC_FILE),
        (PRIVATE_CONTAINER, PRIVATE_FILE),
    ]:
        blob_service.get_container_client(container).upload_blob(
            key, b"media", content_settings=ContentSettings(cache_control=rule_for(key).cache_control)
        )
    return blob_service.url.rstrip("/")


@pytest.mark.parametrize("key", [THUMBNAIL, PUBLIC_FILE])
def test_azure_public_blob_is_readable_anonymously_with_its_rules_cache_control(azure_media: str, key: str) -> None:
    code, headers = http("GET", f"{azure_media}/{PUBLIC_CONTAINER}/{key}")
    assert (code, headers["Cache-Control"]) == (200, EXPECTED_CACHE_CONTROL[key])


def test_azure_private_blob_is_not_readable_anonymously(azure_media: str, blob_service: BlobServiceClient) -> None:
    code, _ = http("GET", f"{azure_media}/{PRIVATE_CONTAINER}/{PRIVATE_FILE}")
    assert code in (403, 404)  # Azurite answers 403 AuthorizationFailure; Azure itself 404 ResourceNotFound
    blob = blob_service.get_blob_client(PRIVATE_CONTAINER, PRIVATE_FILE)
    assert blob.get_blob_properties().content_settings.cache_control == ONE_HOUR  # the blob is there


def test_azure_public_container_cannot_be_listed_anonymously(azure_media: str) -> None:
    code, _ = http("GET", f"{azure_media}/{PUBLIC_CONTAINER}?restype=container&comp=list")
    assert code in (403, 404)


def test_azure_public_container_refuses_anonymous_uploads(azure_media: str) -> None:
    code, _ = http(
        "PUT",
        f"{azure_media}/{PUBLIC_CONTAINER}/filer_public/new.jpg",
        {"x-ms-blob-type": "BlockBlob", "Content-Length": "0"},
    )
    assert code in (403, 404)


def test_azure_public_access_is_per_container_so_any_key_in_the_public_container_is_readable(
    azure_media: str, blob_service: BlobServiceClient
) -> None:
    """Azure has no per-prefix public access: private media must live in the private container."""
    blob_service.get_container_client(PUBLIC_CONTAINER).upload_blob("filer_private/misplaced.pdf", b"media")
    code, _ = http("GET", f"{azure_media}/{PUBLIC_CONTAINER}/filer_private/misplaced.pdf")
    assert code == 200


def test_azure_cors_preflight_from_a_site_origin_is_allowed(azure_media: str) -> None:
    code, headers = http(
        "OPTIONS",
        f"{azure_media}/{PUBLIC_CONTAINER}/{PUBLIC_FILE}",
        {"Origin": SITE_ORIGIN, "Access-Control-Request-Method": "GET"},
    )
    assert (code, headers["Access-Control-Allow-Origin"]) == (200, SITE_ORIGIN)


@pytest.mark.parametrize(("origin", "method"), [*((o, "GET") for o in FOREIGN_ORIGINS), (SITE_ORIGIN, "PUT")])
def test_azure_cors_preflight_is_refused_for_other_origins_and_methods(
    azure_media: str, origin: str, method: str
) -> None:
    code, headers = http(
        "OPTIONS",
        f"{azure_media}/{PUBLIC_CONTAINER}/{PUBLIC_FILE}",
        {"Origin": origin, "Access-Control-Request-Method": method},
    )
    assert code == 403
    assert headers["Access-Control-Allow-Origin"] is None


RICH_SETTINGS: dict[str, Any] = {
    "content_type": "image/jpeg",
    "content_language": "de",
    "content_disposition": 'inline; filename="photo.jpg"',
    "cache_control": ONE_HOUR,
}


def rich_blob(blob_service: BlobServiceClient, name: str) -> BlobClient:
    """A blob stored with type, language, disposition and cache control (the service adds the MD5)."""
    blob = blob_service.get_blob_client(PRIVATE_CONTAINER, name)
    blob.upload_blob(b"media", content_settings=ContentSettings(**RICH_SETTINGS))
    assert blob.get_blob_properties().content_settings.content_md5
    return blob


def test_azure_set_blob_properties_with_only_cache_control_clears_the_other_content_settings(
    azure_media: str, blob_service: BlobServiceClient
) -> None:
    blob = rich_blob(blob_service, "filer_private/set-only-cache-control.jpg")
    blob.set_http_headers(ContentSettings(cache_control=ONE_YEAR))
    after = blob.get_blob_properties().content_settings
    assert {
        name: after[name]
        for name in (
            "content_type",
            "content_language",
            "content_disposition",
            "content_encoding",
            "content_md5",
            "cache_control",
        )
    } == {
        "content_type": None,
        "content_language": None,
        "content_disposition": None,
        "content_encoding": None,
        "content_md5": None,
        "cache_control": ONE_YEAR,
    }


def test_azure_set_blob_properties_keeps_the_content_settings_that_are_sent_back(
    azure_media: str, blob_service: BlobServiceClient
) -> None:
    blob = rich_blob(blob_service, "filer_private/send-all-back.jpg")
    settings = blob.get_blob_properties().content_settings
    md5 = settings.content_md5
    settings.cache_control = ONE_YEAR
    blob.set_http_headers(settings)
    after = blob.get_blob_properties().content_settings
    assert {name: after[name] for name in (*RICH_SETTINGS, "content_md5")} == {
        **RICH_SETTINGS,
        "cache_control": ONE_YEAR,
        "content_md5": md5,
    }
