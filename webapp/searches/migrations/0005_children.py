"""Fanned-out scratch children (issue 10 item 1): ``ChildRun``, one row per (search, step, child)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("searches", "0004_transfer")]

    operations = [
        migrations.CreateModel(
            name="ChildRun",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("step", models.PositiveIntegerField()),
                ("index", models.PositiveIntegerField()),
                ("job_key", models.CharField(max_length=64)),
                ("job", models.JSONField()),
                ("state", models.CharField(choices=[("pending", "pending"), ("running", "running"),
                                                    ("done", "done"), ("failed", "failed"),
                                                    ("cancelled", "cancelled")],
                                           default="pending", max_length=16)),
                ("attempts", models.PositiveIntegerField(default=0)),
                ("worker", models.CharField(blank=True, max_length=200)),
                ("worker_name", models.CharField(blank=True, max_length=200)),
                ("progress", models.FloatField(default=0.0)),
                ("metrics", models.JSONField(blank=True, null=True)),
                ("message", models.TextField(blank=True)),
                ("heartbeat_at", models.DateTimeField(blank=True, null=True)),
                ("created", models.DateTimeField(auto_now_add=True)),
                ("finished_at", models.DateTimeField(blank=True, null=True)),
                ("search", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="children",
                                             to="searches.search")),
            ],
            options={
                "ordering": ["search", "step", "index"],
                "constraints": [
                    models.UniqueConstraint(fields=("search", "step", "index"), name="unique_child_place"),
                    models.UniqueConstraint(fields=("search", "job_key"), name="unique_child_job"),
                ],
            },
        ),
    ]
