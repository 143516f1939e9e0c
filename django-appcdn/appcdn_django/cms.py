"""Purge on change for django CMS pages and django-filer files, connected by ``AppcdnConfig.ready`` when those
apps are installed.

- A page version published or unpublished (djangocms-versioning's ``pre_version_operation`` /
  ``post_version_operation``, the path its admin and its API take) or a page moved (django CMS's
  ``pre_obj_operation`` / ``post_obj_operation`` around the admin's move): the page's and its descendants' public
  URLs in every language, from before and after (an unpublished or moved page has none there afterwards),
  its parent's URLs, the sitemap, and by cache tag every page response that carries the page or a menu
  (``CacheTagMiddleware`` tags them: menus list pages, so any page may show this one).
- A public django-filer file whose stored file is replaced: the old file's URL and its thumbnails (deleting goes
  through the storage, which purges by itself).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from appcdn_django import purge

MENU_TAG = "appcdn-menu"
"""On every django CMS page response: purged when a page appears, disappears or moves."""
PAGE_VIEWS = ("pages-root", "pages-details-by-slug")
"""django CMS's URL names of its page views."""


def page_tag(page_id: int) -> str:
    return f"appcdn-page-{page_id}"


def page_urls(page: Any) -> list[str]:
    """The page's public URLs, one per language it has."""
    origin = f"https://{page.site.domain}"
    paths = (page.get_absolute_url(language, fallback=False) for language in page.get_languages())
    return [f"{origin}{path}" for path in paths if path]


def _purge_page(page: Any, earlier_urls: list[str]) -> None:
    urls = [*earlier_urls, *page_urls(page)]
    if page.parent_id:
        urls += page_urls(page.parent)
    sitemap = getattr(settings, "APPCDN_PURGE_SITEMAP", "/sitemap.xml")
    if sitemap:
        urls.append(f"https://{page.site.domain}{sitemap}")
    purge.later(files=urls, tags=[page_tag(page.pk), MENU_TAG])


_before: dict[str, list[str]] = {}
"""By operation token: the public URLs an operation on a page may take away (a page unpublished or moved has no
URL there afterwards, nor have its descendants)."""


def _subtree_urls(page: Any) -> list[str]:
    return [url for p in (page, *page.get_descendant_pages()) for url in page_urls(p)]


def _versioned_page(operation: str, version: Any) -> Any:
    """The page whose content ``version`` is, when the operation publishes or unpublishes it."""
    from djangocms_versioning import constants

    if operation not in (constants.OPERATION_PUBLISH, constants.OPERATION_UNPUBLISH) or not purge.enabled():
        return None
    return getattr(version.content, "page", None)


def version_changing(sender: Any, operation: str, obj: Any, token: str, **kwargs: Any) -> None:
    """djangocms-versioning, before a page content's version is published or unpublished."""
    page = _versioned_page(operation, obj)
    if page is not None:
        _before[token] = _subtree_urls(page)


def version_changed(sender: Any, operation: str, obj: Any, token: str, **kwargs: Any) -> None:
    """djangocms-versioning, after a page content's version was published or unpublished."""
    page = _versioned_page(operation, obj)
    if page is not None:
        page = type(page).objects.get(pk=page.pk)
        _purge_page(page, [*_before.pop(token, []), *_subtree_urls(page)])


def page_moving(sender: Any, operation: str, obj: Any, token: str, **kwargs: Any) -> None:
    """django CMS, before the admin moves a page: its and its descendants' URLs as they are."""
    from cms import operations

    if operation == operations.MOVE_PAGE and purge.enabled():
        _before[token] = _subtree_urls(obj) + (page_urls(obj.parent) if obj.parent_id else [])


def page_moved(sender: Any, operation: str, obj: Any, token: str, **kwargs: Any) -> None:
    """django CMS, after the admin moved a page: the URLs from before and the new ones."""
    from cms import operations
    from cms.models import Page

    if operation == operations.MOVE_PAGE and purge.enabled():
        page = Page.objects.get(pk=obj.pk)
        _purge_page(page, [*_before.pop(token, []), *_subtree_urls(page)])


def filer_file_saving(sender: Any, instance: Any, **kwargs: Any) -> None:
    """django-filer: a public file about to be saved with another stored file than before."""
    from filer.models import File

    if not isinstance(instance, File) or not instance.pk or not instance.is_public or not purge.enabled():
        return
    before = File.objects.filter(pk=instance.pk).values_list("file", flat=True).first()
    if before and before != instance.file.name:
        purge.stored_file_changed(instance.file.storage.url(before), before)


class CacheTagMiddleware:
    """Tags django CMS page responses for purge by tag (``Cache-Tag``: the page, and ``MENU_TAG``)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        match = request.resolver_match
        if match is not None and match.url_name in PAGE_VIEWS:
            page_id = getattr(getattr(request, "current_page", None), "pk", None)
            if page_id is not None:
                response["Cache-Tag"] = f"{page_tag(page_id)},{MENU_TAG}"
        return response
