"""Small template helpers: active navigation, durations, percentages."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.simple_tag(takes_context=True)
def nav_active(context: dict[str, Any], *prefixes: str) -> str:
    """``"active"`` when the current URL name starts with one of ``prefixes``."""
    request = context.get("request")
    match = getattr(request, "resolver_match", None)
    name = getattr(match, "url_name", "") or ""
    if "search_new" in prefixes:
        return "active" if name == "search_new" else ""
    return "active" if any(name.startswith(p) for p in prefixes) and name != "search_new" else ""


@register.filter
def duration(seconds: Any) -> str:
    try:
        s = float(seconds)
    except (TypeError, ValueError):
        return "—"
    if s < 90:
        return f"{s:.0f} s"
    if s < 5400:
        return f"{s / 60:.0f} min"
    return f"{s / 3600:.1f} h"


@register.filter
def percent(value: Any, digits: int = 1) -> str:
    """``0.9234`` -> ``"92.3 %"``; values above 1 are taken as already in percent."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        return "—"
    if v <= 1.0:
        v *= 100
    return f"{v:.{int(digits)}f} %"


@register.filter
def thousands(value: Any) -> str:
    """``272474`` -> ``"272,474"``; not a whole number -> ``"—"``."""
    if isinstance(value, bool) or not isinstance(value, int):
        return "—"
    return f"{value:,}"


@register.filter
def get_item(mapping: Any, key: Any) -> Any:
    try:
        return mapping.get(key)
    except AttributeError:
        return None


@register.simple_tag
def plotly_script() -> str:
    """``<script>`` for the locally served, versioned plotly.js bundle."""
    from django.urls import reverse
    from django.utils.html import format_html

    from webapp.pages.views_assets import PLOTLY_VERSION

    return format_html('<script src="{}"></script>', reverse("pages:plotly", args=[PLOTLY_VERSION]))
