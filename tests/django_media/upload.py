"""Run as a separate process: save each named file through Django's default storage; print the names saved."""

import sys

import django

django.setup()

from django.core.files.base import ContentFile  # noqa: E402  (after setup)
from django.core.files.storage import default_storage  # noqa: E402

for name in sys.argv[1:]:
    print(default_storage.save(name, ContentFile(f"content of {name}".encode())))
