"""Purge on change for django CMS pages and django-filer images, end to end: django CMS 5 with
djangocms-versioning and django-filer on PostgreSQL, django-appcdn from its wheel, media on moto's S3, against
the loopback Cloudflare API. Publish, unpublish and move pages in two languages; replace and delete an image with
thumbnails; the exact purge requests are asserted."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.cloudflare_fake import FakeCloudflare
from tests.conftest import ZONE_ID
from tests.test_purge import app_runner, purging_app_env

SITE = "https://www.example.com"
MEDIA = "https://media.example.com/"
THUMBNAILS = "media.example.com/filer_public_thumbnails/"


@pytest.fixture
def cms(app_python: Path, postgres_server: dict[str, str], s3_endpoint: str, cloudflare_api: FakeCloudflare) -> Any:
    run = app_runner(app_python, "django_cms", purging_app_env(s3_endpoint, postgres_server, cloudflare_api))
    run("setup")

    def answer(command: str, *args: str) -> Any:
        return json.loads(run(command, *args).stdout)

    return answer


def page_purge(*urls: str, page: int) -> list[tuple[str, dict[str, Any]]]:
    return [
        (ZONE_ID, {"files": list(urls)}),
        (ZONE_ID, {"tags": [f"appcdn-page-{page}", "appcdn-menu"]}),
    ]


def test_publish_unpublish_and_move_purge_the_pages_urls_in_both_languages_and_what_lists_them(
    cms: Any, cloudflare_api: FakeCloudflare
) -> None:
    pages = cms("pages")
    shop, blog, about = pages["shop"], pages["blog"], pages["about"]
    assert cloudflare_api.purges == []  # drafts: nothing public yet
    cms("publish", str(shop), str(blog), str(about))
    # one transaction: one request per kind, each URL once, in the order the versions were published (English,
    # then German: a language's URL is public once its version is)
    [files, tags] = cloudflare_api.purges
    assert files == (
        ZONE_ID,
        {
            "files": [
                f"{SITE}/en/shop/",
                f"{SITE}/sitemap.xml",
                f"{SITE}/de/laden/",
                f"{SITE}/en/blog/",
                f"{SITE}/de/blog/",
                f"{SITE}/en/shop/about/",
                f"{SITE}/de/laden/ueber-uns/",
            ]
        },
    )
    assert tags == (
        ZONE_ID,
        {"tags": [f"appcdn-page-{shop}", "appcdn-menu", f"appcdn-page-{blog}", f"appcdn-page-{about}"]},
    )
    # a visitor's page response carries the tags purged above
    assert cms("get", "/en/shop/about/") == {"status": 200, "cache_tag": f"appcdn-page-{about},appcdn-menu"}

    cloudflare_api.purges.clear()
    cms("unpublish", str(about))
    assert cloudflare_api.purges == page_purge(
        f"{SITE}/en/shop/about/",
        f"{SITE}/de/laden/ueber-uns/",
        f"{SITE}/en/shop/",
        f"{SITE}/de/laden/",
        f"{SITE}/sitemap.xml",
        page=about,
    )

    cms("publish", str(about))
    cloudflare_api.purges.clear()
    assert cms("move", str(about), str(blog)) == 200
    # the old URLs (and the old parent's), the new ones, the new parent's
    assert cloudflare_api.purges == page_purge(
        f"{SITE}/en/shop/about/",
        f"{SITE}/de/laden/ueber-uns/",
        f"{SITE}/en/shop/",
        f"{SITE}/de/laden/",
        f"{SITE}/en/blog/about/",
        f"{SITE}/de/blog/ueber-uns/",
        f"{SITE}/en/blog/",
        f"{SITE}/de/blog/",
        f"{SITE}/sitemap.xml",
        page=about,
    )
    assert cms("get", "/de/blog/ueber-uns/")["status"] == 200


def test_replacing_or_deleting_a_filer_image_purges_its_url_and_its_thumbnails(
    cms: Any, cloudflare_api: FakeCloudflare
) -> None:
    image = cms("image")
    name = image["file"]
    assert name.startswith("filer_public/") and len(image["thumbnails"]) == 2
    assert all(t.startswith(f"filer_public_thumbnails/{name}__") for t in image["thumbnails"])
    # easy-thumbnails writes a thumbnail over its own earlier copy: that URL (and nothing else) is purged
    purged = {v for _, body in cloudflare_api.purges for values in body.values() for v in values}
    assert purged and all(v.split("://")[-1].startswith(f"{THUMBNAILS}{name}__") for v in purged), (name, purged)
    cloudflare_api.purges.clear()
    replaced = cms("replace", str(image["id"]))["file"]
    assert replaced != name
    assert cloudflare_api.purges == [
        (ZONE_ID, {"files": [f"{MEDIA}{name}"]}),
        (ZONE_ID, {"prefixes": [f"{THUMBNAILS}{name}__"]}),
    ]
    cloudflare_api.purges.clear()
    cms("delete", str(image["id"]))
    assert cloudflare_api.purges == [
        (ZONE_ID, {"files": [f"{MEDIA}{replaced}"]}),
        (ZONE_ID, {"prefixes": [f"{THUMBNAILS}{replaced}__"]}),
    ]
