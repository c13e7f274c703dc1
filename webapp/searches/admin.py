from __future__ import annotations

from django.contrib import admin

from webapp.searches.models import Search, TrainedModel


@admin.register(Search)
class SearchAdmin(admin.ModelAdmin):
    list_display = ("id", "name", "owner", "status", "progress", "attempts", "created")
    list_filter = ("status",)


admin.site.register(TrainedModel)
