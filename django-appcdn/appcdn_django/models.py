"""What a purge could not send, kept for ``manage.py appcdn_purge --pending``."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from django.db import models

if TYPE_CHECKING:
    from appcdn_django.purge import Items


class PendingPurge(models.Model):  # type: ignore[misc]
    zone_id = models.CharField(max_length=64)
    kind = models.CharField(max_length=16)
    """files, tags, hosts or prefixes: the purge request's field."""
    value = models.CharField(max_length=2048)
    reason = models.TextField()
    """Why the last attempt did not purge it."""
    attempts = models.PositiveIntegerField(default=1)
    first_failed = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(fields=["zone_id", "kind", "value"], name="appcdn_pending_purge_once")
        ]

    @classmethod
    def record(cls, zone_id: str, items: Items, reason: str) -> None:
        """Keep ``items`` (once each: a repeat counts one more attempt)."""
        for kind, values in items.by_kind.items():
            for value in values:
                row, created = cls.objects.get_or_create(
                    zone_id=zone_id, kind=kind, value=value, defaults={"reason": reason}
                )
                if not created:
                    row.reason, row.attempts = reason, row.attempts + 1
                    row.save(update_fields=["reason", "attempts"])
