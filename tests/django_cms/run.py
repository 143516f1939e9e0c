"""Run as a separate process of the django CMS site; each command prints JSON:

``setup`` migrates, makes the editor and the site's domain (once per PostgreSQL server, which lives for the test
session); ``pages`` creates a parent and a child page, each in
English and German (drafts); ``publish ID...`` publishes every draft of those pages in one transaction;
``unpublish ID`` unpublishes the page's published versions; ``move ID TARGET`` moves a page under another through
the admin's move view; ``get PATH`` fetches a page as a visitor (status and ``Cache-Tag``); ``image`` uploads a
public django-filer image and makes two thumbnails; ``replace ID`` / ``delete ID`` replace its file or delete it.
"""

import io
import json
import sys

import django

django.setup()

from cms.api import create_page, create_page_content  # noqa: E402 (Django is set up first)
from cms.models import Page, PageContent  # noqa: E402 (Django is set up first)
from django.contrib.auth.models import User  # noqa: E402 (Django is set up first)
from django.contrib.sites.models import Site  # noqa: E402 (Django is set up first)
from django.core.files.base import ContentFile  # noqa: E402 (Django is set up first)
from django.core.management import call_command  # noqa: E402 (Django is set up first)
from django.db import transaction  # noqa: E402 (Django is set up first)
from django.test import Client  # noqa: E402 (Django is set up first)
from djangocms_versioning.constants import DRAFT, PUBLISHED, UNPUBLISHED  # noqa: E402 (Django is set up first)
from djangocms_versioning.models import Version  # noqa: E402 (Django is set up first)
from easy_thumbnails.files import get_thumbnailer  # noqa: E402 (Django is set up first)
from filer.models import Image  # noqa: E402 (Django is set up first)
from PIL import Image as Picture  # noqa: E402 (Django is set up first)


def editor() -> User:
    return User.objects.get(username="editor")


def versions(page_id: str, state: str) -> list[Version]:
    contents = PageContent.admin_manager.filter(page_id=page_id)
    return [
        v
        for v in Version.objects.filter_by_grouper(Page.objects.get(pk=page_id))
        if v.state == state and v.content in contents
    ]


def png(colour: str) -> ContentFile:
    data = io.BytesIO()
    Picture.new("RGB", (400, 300), colour).save(data, "PNG")
    return ContentFile(data.getvalue(), name="photo.png")


command, args = sys.argv[1], sys.argv[2:]
if command == "setup":
    call_command("migrate", verbosity=0)
    from appcdn_django.models import PendingPurge

    PendingPurge.objects.all().delete()
    if not User.objects.filter(username="editor").exists():
        User.objects.create_superuser("editor", "editor@example.com", "x")
    Site.objects.update_or_create(pk=1, defaults={"domain": "www.example.com", "name": "shop"})
    print(json.dumps("ready"))
elif command == "pages":
    parent = create_page("Shop", "page.html", "en", slug="shop", created_by=editor(), in_navigation=True)
    create_page_content("de", "Laden", parent, slug="laden", created_by=editor())
    other = create_page("Blog", "page.html", "en", slug="blog", created_by=editor(), in_navigation=True)
    create_page_content("de", "Blog", other, slug="blog", created_by=editor())
    child = create_page("About", "page.html", "en", slug="about", parent=parent, created_by=editor())
    create_page_content("de", "Über uns", child, slug="ueber-uns", created_by=editor())
    print(json.dumps({"shop": parent.pk, "blog": other.pk, "about": child.pk}))
elif command == "publish":  # the drafts, or a new draft of what was unpublished
    with transaction.atomic():
        for page_id in args:
            drafts = versions(page_id, DRAFT) or [v.copy(editor()) for v in versions(page_id, UNPUBLISHED)]
            for version in drafts:
                version.publish(editor())
    print(json.dumps("published"))
elif command == "unpublish":
    with transaction.atomic():
        for version in versions(args[0], PUBLISHED):
            version.unpublish(editor())
    print(json.dumps("unpublished"))
elif command == "move":
    client = Client()
    client.force_login(editor())
    response = client.post(f"/admin/cms/page/{args[0]}/move-page/", {"target": args[1], "position": 0})
    print(json.dumps(response.status_code))
elif command == "get":
    response = Client().get(args[0])
    print(json.dumps({"status": response.status_code, "cache_tag": response.get("Cache-Tag")}))
elif command == "image":
    image = Image.objects.create(owner=editor(), original_filename="photo.png", file=png("red"), is_public=True)
    thumbnailer = get_thumbnailer(image.file)
    thumbnails = [
        thumbnailer.get_thumbnail(options).name for options in ({"size": (64, 48), "crop": True}, {"size": (200, 150)})
    ]
    print(json.dumps({"id": image.pk, "file": image.file.name, "thumbnails": thumbnails}))
elif command == "replace":
    image = Image.objects.get(pk=args[0])
    with transaction.atomic():
        image.file = png("blue")
        image.save()
    print(json.dumps({"file": image.file.name}))
elif command == "delete":
    with transaction.atomic():
        Image.objects.get(pk=args[0]).delete()
    print(json.dumps("deleted"))
