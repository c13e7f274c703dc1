from __future__ import annotations

from django.apps import AppConfig


class DesignerConfig(AppConfig):
    name = "webapp.designer"
    label = "designer"
    verbose_name = "Search designer"
