"""``manage.py appcdn_purge --pending``: send again what earlier purges could not (``PendingPurge``)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from appcdn_django.models import PendingPurge
from appcdn_django.purge import Items, Purger


class Command(BaseCommand):  # type: ignore[misc]
    help = "Purge from Cloudflare's cache what earlier purges could not (recorded when they failed)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--pending", action="store_true", required=True, help="send the recorded purges")

    def handle(self, *args: Any, **options: Any) -> None:
        rows = list(PendingPurge.objects.order_by("id"))
        if not rows:
            self.stdout.write("nothing pending")
            return
        left_over = 0
        for zone_id in dict.fromkeys(row.zone_id for row in rows):
            items = Items()
            for row in rows:
                if row.zone_id == zone_id:
                    items.add(row.kind, [row.value])
            purger = Purger.from_settings()
            purger.zone_id = zone_id
            left = purger.purge(items)
            sent = [r.id for r in rows if r.zone_id == zone_id and r.value not in left.by_kind[r.kind]]
            PendingPurge.objects.filter(id__in=sent).delete()
            pending = sum(map(len, left.by_kind.values()))
            left_over += pending
            self.stdout.write(f"zone {zone_id}: purged {len(sent)}, still pending {pending}")
        if left_over:
            raise CommandError(f"{left_over} item(s) still pending; see the log for why")
