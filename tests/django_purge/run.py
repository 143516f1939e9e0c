"""Run as a separate process of the app: ``migrate`` (and forget what earlier tests left pending);
``save NAME...`` and ``delete NAME...``, each in one transaction; ``pending`` prints the recorded purges as JSON;
``purge-pending`` runs ``manage.py appcdn_purge --pending``."""

import json
import sys

import django

django.setup()

from django.core.files.base import ContentFile  # noqa: E402 (Django is set up first)
from django.core.files.storage import default_storage  # noqa: E402 (Django is set up first)
from django.core.management import CommandError, call_command  # noqa: E402 (Django is set up first)
from django.db import transaction  # noqa: E402 (Django is set up first)

from appcdn_django.models import PendingPurge  # noqa: E402 (Django is set up first)

command, names = sys.argv[1], sys.argv[2:]
if command == "migrate":
    call_command("migrate", verbosity=0)
    PendingPurge.objects.all().delete()
elif command == "save":
    with transaction.atomic():
        print(json.dumps([default_storage.save(n, ContentFile(f"content of {n}".encode())) for n in names]))
elif command == "delete":
    with transaction.atomic():
        for name in names:
            default_storage.delete(name)
elif command == "pending":
    rows = PendingPurge.objects.order_by("id").values("kind", "value", "reason", "attempts")
    print(json.dumps(list(rows)))
elif command == "purge-pending":
    try:
        call_command("appcdn_purge", "--pending")
    except CommandError as error:
        print(f"CommandError: {error}")
