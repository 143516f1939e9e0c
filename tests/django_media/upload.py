"""Run as a separate process, as an app uses its media storage: ``save NAME...`` saves each file and reads it
back; ``delete NAME...`` deletes them. Prints what the storage answered, as JSON. The storage is made as
django-filer makes its own (the default storage's class, without options); the default storage is that too."""

import json
import posixpath
import sys

import django

django.setup()

from django.conf import settings  # noqa: E402 (Django is set up first)
from django.core.files.base import ContentFile  # noqa: E402 (Django is set up first)
from django.utils.module_loading import import_string  # noqa: E402 (Django is set up first)

default_storage = import_string(settings.STORAGES["default"]["BACKEND"])()


def saved_and_read_back(names: list[str]) -> dict[str, dict[str, object]]:
    files = {}
    for name in (default_storage.save(n, ContentFile(f"content of {n}".encode())) for n in names):
        with default_storage.open(name) as stored:
            content = stored.read().decode()
        files[name] = {
            "content": content,
            "size": default_storage.size(name),
            "url": default_storage.url(name),
            "exists": default_storage.exists(name),
            "modified": default_storage.get_modified_time(name).isoformat(),
            "listed": default_storage.listdir(posixpath.dirname(name))[1],
            "top_folders": default_storage.listdir("")[0],
        }
    return files


def deleted(names: list[str]) -> dict[str, bool]:
    for name in names:
        default_storage.delete(name)
    return {name: not default_storage.exists(name) for name in names}


command, names = sys.argv[1], sys.argv[2:]
print(json.dumps(saved_and_read_back(names) if command == "save" else deleted(names)))
