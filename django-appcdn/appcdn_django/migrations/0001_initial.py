"""The record of pending purges (made by ``manage.py makemigrations appcdn_django``)."""

from typing import ClassVar

from django.db import migrations, models


class Migration(migrations.Migration):  # type: ignore[misc]
    initial = True

    dependencies: ClassVar[list[tuple[str, str]]] = []

    operations: ClassVar[list[migrations.operations.base.Operation]] = [
        migrations.CreateModel(
            name="PendingPurge",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("zone_id", models.CharField(max_length=64)),
                ("kind", models.CharField(max_length=16)),
                ("value", models.CharField(max_length=2048)),
                ("reason", models.TextField()),
                ("attempts", models.PositiveIntegerField(default=1)),
                ("first_failed", models.DateTimeField(auto_now_add=True)),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(fields=("zone_id", "kind", "value"), name="appcdn_pending_purge_once")
                ],
            },
        ),
    ]
