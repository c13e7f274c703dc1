from __future__ import annotations

from django.contrib import admin

from webapp.datasets.models import Dataset


@admin.register(Dataset)
class DatasetAdmin(admin.ModelAdmin):
    list_display = ("id", "name", "owner", "kind", "status", "size", "created")
    list_filter = ("status", "kind")
