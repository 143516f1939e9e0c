"""Media: header rules (first match wins) for app, edge and bucket; the storage components; their invariants."""

import json
from typing import Any, cast

import octorules_wirefilter
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from appcdn import defaults
from appcdn.components.azure_media import AzureMedia, AzureMediaArgs
from appcdn.components.s3_media import S3Media, S3MediaArgs
from appcdn.config.media import HeaderRule, MediaConfig
from appcdn.config.problems import ConfigError
from appcdn.rules.expressions import Request
from appcdn.rules.media import (
    connector_rule,
    django_settings,
    edge_settings,
    first_match,
    fixed_endpoint_host,
    media_url,
    s3_bucket_policy,
)
from appcdn.rules.rulesets import ZoneRules, apply_rules
from tests.conftest import compiled, declare, problems_of, raw_config, test_stage

DEFAULT_MEDIA_HEADERS = [HeaderRule.model_validate(h) for h in defaults.MEDIA_HEADERS]

MEDIA_HOST = "media.example.com"


def media_config(**kw: Any) -> dict[str, Any]:
    return {"backend": "aws", "domain": {"host": MEDIA_HOST}, **kw}


def zone_rules(media: dict[str, Any], plan: str = "pro") -> ZoneRules:
    return compiled(raw_config(plan=plan, media=media))["example.com"]


# --- header rules -------------------------------------------------------------------------------------


def test_default_headers_are_the_platforms() -> None:
    assert [(r.match, r.cache_control) for r in DEFAULT_MEDIA_HEADERS] == [
        ("filer_public_thumbnails/*", "public, max-age=31536000"),
        ("*", "public, max-age=3600"),
    ]
    media = MediaConfig(backend="aws")
    assert media.public_prefixes == ["filer_public/", "filer_public_thumbnails/"]


def test_first_match_wins() -> None:
    rules = [
        HeaderRule(match="*.html", cache_control="no-cache"),
        HeaderRule(match="*", cache_control="public, max-age=31536000"),
    ]
    assert first_match(rules, "pages/index.html") == rules[0]
    assert first_match(rules, "filer_public/a.jpg") == rules[1]
    assert rules[1].cache_control == "public, max-age=31536000"
    assert first_match([HeaderRule(match="a/*", cache_control="no-store")], "b/c") is None


def test_html_never_gets_the_one_year_cache_at_the_edge() -> None:
    """The precedence bug of peers: a later catch-all must not beat an earlier, narrower rule."""
    zone = zone_rules(
        media_config(
            headers=[
                {"match": "*.html", "cache_control": "no-cache"},
                {"match": "*", "cache_control": "public, max-age=31536000"},
            ]
        )
    )
    html = apply_rules(zone.cache, Request(MEDIA_HOST, "/pages/index.html"))
    assert html["edge_ttl"] == {"mode": "respect_origin"} and html["browser_ttl"] == {"mode": "respect_origin"}
    jpg = apply_rules(zone.cache, Request(MEDIA_HOST, "/filer_public/a.jpg"))
    assert jpg["edge_ttl"] == {"mode": "override_origin", "default": 31536000}


GLOBS = ["filer_public_thumbnails/*", "filer_public/*", "*.html", "*.pdf", "downloads/*", "a/*/b*", "*"]
KEYS = [
    "filer_public_thumbnails/x/y.jpg",
    "filer_public/a.pdf",
    "index.html",
    "downloads/f.pdf",
    "a/1/b2",
    "other/file.txt",
    "filer_public/t.html",
]
CONTROLS = [
    "public, max-age=31536000",
    "public, max-age=86400",
    "no-cache",
    "private, no-store",
    "public, max-age=7200",
]


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(GLOBS), st.sampled_from(CONTROLS)), min_size=1, max_size=6, unique_by=lambda t: t[0]
    ),
    st.sampled_from(KEYS),
    st.sampled_from(["aws", "azure"]),
)
def test_the_edge_gives_every_key_its_first_matching_rule(pairs: list[tuple[str, str]], key: str, backend: str) -> None:
    headers = [{"match": g, "cache_control": c} for g, c in pairs]
    media = media_config(backend=backend, headers=headers, azure={"account_name": "shopmedia"})
    try:
        zone = zone_rules(media, plan="business")
    except ConfigError:  # a shadowed rule: refused by validation, tested below
        return
    config = MediaConfig.model_validate(media)
    expected = first_match(config.headers, key)
    path = f"/{key}" if backend == "aws" else f"/public/{key}"
    got = apply_rules(zone.cache, Request(MEDIA_HOST, path))
    if expected is None:
        assert "edge_ttl" not in got
    else:
        settings = edge_settings(expected, "business")
        assert {k: got.get(k) for k in settings} == settings


@pytest.mark.parametrize("cache_control", ["no-store", "private, no-store", "private", "Private, max-age=60"])
def test_objects_no_shared_cache_may_keep_are_bypassed_at_the_edge(cache_control: str) -> None:
    assert edge_settings(HeaderRule(match="*", cache_control=cache_control), "business") == {"cache": False}


def test_edge_overrides_only_where_the_plan_allows_the_ttl() -> None:
    one_hour = HeaderRule(match="*", cache_control="public, max-age=3600")
    assert edge_settings(one_hour, "pro")["edge_ttl"] == {"mode": "override_origin", "default": 3600}
    assert edge_settings(one_hour, "free")["edge_ttl"] == {"mode": "respect_origin"}
    trusted = HeaderRule(match="*", cache_control="public, max-age=3600", edge_ttl="respect_origin")
    assert edge_settings(trusted, "enterprise")["edge_ttl"] == {"mode": "respect_origin"}


def test_uncached_media_domain_is_one_explicit_bypass() -> None:
    zone = zone_rules(media_config(domain={"host": MEDIA_HOST, "cache": False}))
    assert apply_rules(zone.cache, Request(MEDIA_HOST, "/filer_public/a.jpg")) == {"cache": False}


def test_media_edge_rules_parse_and_count_with_the_apps() -> None:
    zone = zone_rules(media_config())
    for rule in zone.cache:
        assert "error" not in octorules_wirefilter.parse_expression(rule.expression)
    assert any(r.ref == "shop-live-media-1" for r in zone.cache)
    rules = [
        {
            "name": f"r{i}",
            "action": "cache",
            "match": {"path_prefixes": [f"/p{i}/"]},
            "responses_set_no_cookies": True,
            "edge_ttl": {"mode": "override_origin", "default": 7200 + i},
        }
        for i in range(6)
    ]
    raw = raw_config(
        plan="free",
        media={
            "backend": "aws",
            "domain": {"host": MEDIA_HOST},
            "headers": [
                {"match": "a/*", "cache_control": "public, max-age=86400"},
                {"match": "*", "cache_control": "public, max-age=90000"},
            ],
        },
        cache={"rules": rules},
    )
    with pytest.raises(ConfigError) as err:
        compiled(raw)
    assert (
        "(cache and media of every stage's sites on it) compile to 11 rules after merging; the free plan allows "
        "10" in str(err.value)
    )


# --- the app ------------------------------------------------------------------------------------------


def test_django_settings_for_s3() -> None:
    media = MediaConfig.model_validate(
        media_config(
            headers=[
                {"match": "downloads/*", "cache_control": "private", "content_disposition": "attachment"},
                {"match": "*", "cache_control": "public, max-age=3600", "content_language": "en"},
            ]
        )
    )
    assert django_settings(media, media_url(media, "b.s3.eu-central-1.amazonaws.com"), "b") == {
        "APPCDN_MEDIA_VERSION": "1",
        "APPCDN_READER": "django-appcdn>=0.1.0",
        "APPCDN_MEDIA_BACKEND": "aws",
        "AWS_STORAGE_BUCKET_NAME": "b",
        "AWS_S3_REGION_NAME": "eu-central-1",
        "AWS_S3_OBJECT_PARAMETERS": {"CacheControl": "public, max-age=3600", "ContentLanguage": "en"},
        "APPCDN_MEDIA_HEADERS": [
            {"match": "downloads/*", "headers": {"Cache-Control": "private", "Content-Disposition": "attachment"}},
            {"match": "*", "headers": {"Cache-Control": "public, max-age=3600", "Content-Language": "en"}},
        ],
        "APPCDN_MEDIA_PUBLIC_PREFIXES": ["filer_public/", "filer_public_thumbnails/"],
        "MEDIA_URL": "https://media.example.com/",
    }


def test_django_settings_for_azure_on_the_provider_endpoint() -> None:
    media = MediaConfig(backend="azure")
    settings_ = django_settings(media, media_url(media, "acct.blob.core.windows.net"))
    assert settings_["AZURE_CACHE_CONTROL"] == "public, max-age=3600"
    assert settings_["AZURE_CONTAINER"] == "private"  # private files never land in the public container
    assert settings_["APPCDN_AZURE_PUBLIC_CONTAINER"] == "public"
    assert settings_["MEDIA_URL"] == "https://acct.blob.core.windows.net/public/"


# --- the bucket ---------------------------------------------------------------------------------------


def test_bucket_policy_grants_only_public_reads_of_public_prefixes_and_denies_plain_http() -> None:
    policy = s3_bucket_policy("arn:aws:s3:::b", ["filer_public/", "filer_public_thumbnails/"])
    allows = [s for s in policy["Statement"] if s["Effect"] == "Allow"]
    assert allows == [
        {
            "Sid": "PublicReadOfPublicMedia",
            "Effect": "Allow",
            "Principal": "*",
            "Action": "s3:GetObject",
            "Resource": ["arn:aws:s3:::b/filer_public/*", "arn:aws:s3:::b/filer_public_thumbnails/*"],
        }
    ]
    [deny] = [s for s in policy["Statement"] if s["Effect"] == "Deny"]
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert deny["Resource"] == ["arn:aws:s3:::b", "arn:aws:s3:::b/*"]


def test_no_public_prefixes_means_no_public_statement() -> None:
    assert [s["Effect"] for s in s3_bucket_policy("arn:aws:s3:::b", [])["Statement"]] == ["Deny"]


def test_cloud_connector_rules_use_the_provider_host_forms() -> None:
    aws_rule = connector_rule(
        MediaConfig.model_validate(media_config()), "shop", "live", "b.s3.eu-central-1.amazonaws.com"
    )
    assert aws_rule == {
        "cloud_connector_rules_provider": "aws_s3",
        "description": "appcdn: shop/live/media",
        "enabled": True,
        "expression": 'lower(http.host) eq "media.example.com"',  # as the cache rules compare hosts
        "parameters": {"host": "b.s3.eu-central-1.amazonaws.com"},
    }
    azure = MediaConfig.model_validate(media_config(backend="azure", azure={"account_name": "shopmedia"}))
    assert fixed_endpoint_host(azure) == "shopmedia.blob.core.windows.net"
    assert (
        connector_rule(azure, "shop", "live", fixed_endpoint_host(azure))["cloud_connector_rules_provider"]
        == "azure_storage"
    )
    assert fixed_endpoint_host(MediaConfig.model_validate(media_config())) is None  # Pulumi names the bucket


# --- components -----------------------------------------------------------------------------------------


def s3_args(**kw: Any) -> S3MediaArgs:
    return cast(
        S3MediaArgs,
        {
            "region": "eu-central-1",
            "bucket_name": None,
            "public_prefixes": ["filer_public/"],
            "cors_hosts": ["www.example.com"],
            "versioning": True,
            "noncurrent_version_days": 30,
            "tags": {"appcdn-site": "shop"},
            "protect": True,
            **kw,
        },
    )


def test_s3_media_on_live_is_private_encrypted_versioned_and_protected() -> None:
    res = declare(lambda: S3Media("m", s3_args()))
    bucket = res["m-bucket"]
    assert bucket.protect and bucket.retain_on_delete
    assert res["m-ownership"].inputs["rule"] == {"objectOwnership": "BucketOwnerEnforced"}
    assert {
        k: v for k, v in res["m-public-access"].inputs.items() if k.startswith(("block", "ignore", "restrict"))
    } == {"blockPublicAcls": True, "ignorePublicAcls": True, "blockPublicPolicy": False, "restrictPublicBuckets": False}
    assert json.loads(res["m-policy"].inputs["policy"]) == s3_bucket_policy("arn:aws:s3:::m-bucket", ["filer_public/"])
    assert res["m-encryption"].inputs["rules"] == [
        {"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"}, "bucketKeyEnabled": True}
    ]
    assert res["m-cors"].inputs["corsRules"][0]["allowedOrigins"] == ["https://www.example.com"]
    assert res["m-versioning"].inputs["versioningConfiguration"] == {"status": "Enabled"}
    abort, noncurrent = res["m-lifecycle"].inputs["rules"]
    assert abort["abortIncompleteMultipartUpload"] == {"daysAfterInitiation": 7}
    assert noncurrent["noncurrentVersionExpiration"] == {"noncurrentDays": 30}
    assert all(r.inputs.get("region") == "eu-central-1" for r in res.values() if r.type.startswith("aws:"))


def test_s3_media_on_test_is_neither_versioned_nor_protected_but_drops_abandoned_uploads() -> None:
    res = declare(lambda: S3Media("m", s3_args(versioning=False, protect=False)))
    assert "m-versioning" not in res
    [abort] = res["m-lifecycle"].inputs["rules"]
    assert abort["abortIncompleteMultipartUpload"] == {"daysAfterInitiation": 7}
    assert not res["m-bucket"].protect


def test_s3_media_without_public_prefixes_blocks_all_public_access() -> None:
    res = declare(lambda: S3Media("m", s3_args(public_prefixes=[])))
    assert res["m-public-access"].inputs["blockPublicPolicy"] is True
    assert res["m-public-access"].inputs["restrictPublicBuckets"] is True


def azure_args(**kw: Any) -> AzureMediaArgs:
    return cast(
        AzureMediaArgs,
        {
            "resource_group": None,
            "location": "westeurope",
            "account_name": "shopmedia",
            "public": True,
            "cors_hosts": ["www.example.com"],
            "soft_delete_days": 30,
            "tags": {},
            "protect": True,
            **kw,
        },
    )


def test_azure_media_on_live_is_https_only_tls12_soft_deleted_and_protected() -> None:
    res = declare(lambda: AzureMedia("m", azure_args()))
    account = res["m-account"].inputs
    assert account["kind"] == "StorageV2" and account["enableHttpsTrafficOnly"] is True
    assert account["minimumTlsVersion"] == "TLS1_2" and account["allowBlobPublicAccess"] is True
    assert res["m-public"].inputs["publicAccess"] == "Blob"  # blobs readable, container not listable
    assert res["m-private"].inputs["publicAccess"] == "None"
    service = res["m-blob-service"].inputs
    assert service["deleteRetentionPolicy"] == {"enabled": True, "days": 30}
    assert service["containerDeleteRetentionPolicy"] == {"enabled": True, "days": 30}
    assert service["isVersioningEnabled"] is True
    for name in ("m-group", "m-account", "m-public", "m-private"):
        assert res[name].protect and res[name].retain_on_delete


def test_azure_media_in_an_existing_group_without_public_media() -> None:
    res = declare(lambda: AzureMedia("m", azure_args(resource_group="rg", public=False, soft_delete_days=None)))
    assert "m-group" not in res and "m-public" not in res
    assert res["m-account"].inputs["resourceGroupName"] == "rg"
    assert res["m-account"].inputs["allowBlobPublicAccess"] is False
    assert res["m-blob-service"].inputs["deleteRetentionPolicy"] == {"enabled": False}


# --- config ---------------------------------------------------------------------------------------------


def test_unknown_backend() -> None:
    [problem] = problems_of(raw_config(media={"backend": "gcs"}))
    assert problem.startswith("sites[0].media.backend: 'gcs' is not allowed;") and "'aws'" in problem


def test_shadowed_header_rule_is_refused() -> None:
    problems = problems_of(
        raw_config(
            media={
                "backend": "aws",
                "headers": [
                    {"match": "*", "cache_control": "public, max-age=3600"},
                    {"match": "filer_public_thumbnails/*", "cache_control": "public, max-age=31536000"},
                ],
            }
        )
    )
    assert problems == [
        "sites[0].media.headers[1].match: never applies: headers[0] ('*') comes first and matches every key this "
        "one does; the first match wins, so put the narrower rule first"
    ]


def test_invalid_object_glob() -> None:
    [problem] = problems_of(
        raw_config(media={"backend": "aws", "headers": [{"match": "/filer/[ab]", "cache_control": "no-store"}]})
    )
    assert problem.startswith("sites[0].media.headers[0].match: '/filer/[ab]' is not a valid object-key glob")


def test_custom_media_domain_outside_the_zone() -> None:
    assert problems_of(raw_config(media={"backend": "aws", "domain": {"host": "media.example.org"}})) == [
        "sites[0].media.domain.host: 'media.example.org' is outside the site's zone example.com; a custom media "
        "domain must be a host of that zone"
    ]


def test_other_stage_media_domain_needs_a_fixed_bucket_name() -> None:
    test = test_stage(media={"backend": "aws", "domain": {"host": "media-test.example.com"}})
    assert problems_of(raw_config(), test) == [
        "Pulumi.test.yaml: sites[0].media.aws.bucket_name: required with a custom media domain here: the zone's "
        "owner (Pulumi.own.yaml) routes the domain to this bucket, so its name must be fixed"
    ]


def test_the_owner_compiles_the_test_stages_media_rules_from_the_test_stack_file_alone() -> None:
    media = {"backend": "aws", "aws": {"bucket_name": "shop-test-media"}, "domain": {"host": "media-test.example.com"}}
    before = compiled(raw_config(), test_stage(media=media))["example.com"]
    after = compiled(
        raw_config(), test_stage(media={**media, "headers": [{"match": "*", "cache_control": "no-store"}]})
    )
    request = Request("media-test.example.com", "/filer_public_thumbnails/a.jpg")
    assert apply_rules(before.cache, request)["edge_ttl"] == {"mode": "override_origin", "default": 31536000}
    assert apply_rules(after["example.com"].cache, request)["cache"] is False  # no-store: never at the edge


def test_azure_needs_an_account_name() -> None:
    assert problems_of(raw_config(media={"backend": "azure"})) == [
        "sites[0].media.azure.account_name: required for the azure backend: storage account names are global "
        "(3-24 lower-case letters and digits)"
    ]


def test_edge_override_below_the_plan_minimum() -> None:
    raw = raw_config(
        plan="free",
        media={
            "backend": "aws",
            "headers": [{"match": "*", "cache_control": "public, max-age=3600", "edge_ttl": "override"}],
        },
    )
    assert problems_of(raw) == [
        "sites[0].media.headers[0].edge_ttl: max-age 3600 s is below the free plan's minimum edge TTL of 7200 s; "
        "use respect_origin or auto"
    ]


def test_media_domain_cannot_be_an_app_host() -> None:
    assert problems_of(raw_config(media={"backend": "aws", "domain": {"host": "www.example.com"}})) == [
        "sites[0].media.domain.host: 'www.example.com' is already served by site shop (live)"
    ]


def test_bad_storage_values_name_their_keys() -> None:
    raw = raw_config(
        media={
            "backend": "aws",
            "aws": {"bucket_name": "Bad_Bucket", "noncurrent_version_days": 0},
            "public_prefixes": ["filer_public", "filer_public/", "filer_public/"],
        }
    )
    assert problems_of(raw) == [
        "sites[0].media.aws.bucket_name: 'Bad_Bucket' is not an S3 bucket name (3-63 lower-case letters, digits and "
        "'-', starting and ending with a letter or digit)",
        "sites[0].media.aws.noncurrent_version_days: 0 should be >= 1",
        "sites[0].media.public_prefixes[0]: 'filer_public' is not an object-key prefix such as 'filer_public/' "
        "(ends with '/')",
    ]
    raw = raw_config(media={"backend": "azure", "azure": {"account_name": "Shop-Media", "soft_delete_days": 400}})
    assert problems_of(raw) == [
        "sites[0].media.azure.account_name: 'Shop-Media' is not a storage account name (3-24 lower-case letters "
        "and digits)",
        "sites[0].media.azure.soft_delete_days: 400 should be <= 365",
    ]


def test_public_prefix_listed_twice() -> None:
    raw = raw_config(media={"backend": "aws", "public_prefixes": ["filer_public/", "filer_public/"]})
    assert problems_of(raw) == ["sites[0].media.public_prefixes[1]: 'filer_public/' is listed twice"]


def test_override_needs_a_max_age() -> None:
    raw = raw_config(
        media={"backend": "aws", "headers": [{"match": "*", "cache_control": "no-cache", "edge_ttl": "override"}]}
    )
    assert problems_of(raw) == [
        "sites[0].media.headers[0].cache_control: edge_ttl override needs a max-age in cache_control"
    ]
