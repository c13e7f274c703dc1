"""URL routes: the JSON API, the admin, and the pages/designer apps (written beside this file)."""

from __future__ import annotations

from importlib.util import find_spec

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("api/", include("webapp.api.urls")),
    path("admin/", admin.site.urls),
    path("workers/", include("webapp.workers.urls")),
]
# The pages engineer's apps; included once their modules exist.
if find_spec("webapp.designer") and find_spec("webapp.designer.urls"):
    urlpatterns.append(path("designer/", include("webapp.designer.urls")))
if find_spec("webapp.pages") and find_spec("webapp.pages.urls"):
    urlpatterns.append(path("", include("webapp.pages.urls")))
