from __future__ import annotations

from django.urls import path, re_path

from webapp.api import views
from webapp.workers import views as worker_views

app_name = "api"
urlpatterns = [
    path("datasets/", views.datasets, name="datasets"),
    path("datasets/<int:pk>/", views.dataset_detail, name="dataset"),
    path("datasets/<int:pk>/thumbnails/<str:name>", views.dataset_thumbnail, name="dataset-thumbnail"),
    path("searches/", views.searches, name="searches"),
    path("searches/<int:pk>/", views.search_detail, name="search"),
    # design §7 spells these without a trailing slash; both spellings work
    re_path(r"^searches/(?P<pk>[0-9]+)/events/?$", views.search_events, name="search-events"),
    re_path(r"^searches/(?P<pk>[0-9]+)/cancel/?$", views.search_cancel, name="search-cancel"),
    re_path(r"^searches/(?P<pk>[0-9]+)/rerun/?$", views.search_rerun, name="search-rerun"),
    re_path(r"^searches/(?P<pk>[0-9]+)/package/?$", views.search_package, name="search-package"),
    re_path(r"^searches/(?P<pk>[0-9]+)/controls/?$", views.search_controls, name="search-controls"),
    re_path(r"^searches/(?P<pk>[0-9]+)/comparison/?$", views.search_comparison, name="search-comparison"),
    re_path(r"^searches/(?P<pk>[0-9]+)/transfers/?$", views.search_transfers, name="search-transfers"),
    path("spaces/", views.spaces, name="spaces"),
    path("workers/", worker_views.api_workers, name="workers"),
]
