from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.urls import path
from django.views.generic import RedirectView

from webapp.accounts.views import LoginView
from webapp.designer import views_page
from webapp.pages import (
    views_assets,
    views_auth,
    views_compare,
    views_datasets,
    views_searches,
    views_transfer,
)

app_name = "pages"

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="pages:searches"), name="home"),
    path("login/", LoginView.as_view(), name="login"),  # throttled (webapp/accounts/throttle.py)
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("signup/", views_auth.signup, name="signup"),
    path("account/", views_auth.account, name="account"),
    path("datasets/", views_datasets.dataset_list, name="datasets"),
    path("datasets/new", views_datasets.dataset_new, name="dataset_new"),
    path("datasets/<int:pk>/", views_datasets.dataset_detail, name="dataset"),
    path("datasets/<int:pk>/status", views_datasets.dataset_status, name="dataset_status"),
    path("datasets/<int:pk>/delete", views_datasets.dataset_delete, name="dataset_delete"),
    path("datasets/<int:pk>/thumbnails/<path:name>", views_datasets.dataset_thumbnail,
         name="dataset_thumbnail"),
    path("searches/", views_searches.search_list, name="searches"),
    path("searches/new", views_page.search_new, name="search_new"),
    path("searches/<int:pk>/", views_searches.search_live, name="live"),
    path("searches/<int:pk>/graph.svg", views_searches.search_svg, name="search_svg"),
    path("searches/<int:pk>/cancel", views_searches.search_cancel, name="search_cancel"),
    path("searches/<int:pk>/results", views_searches.search_results, name="results"),
    path("searches/<int:pk>/rerun", views_searches.search_rerun, name="search_rerun"),
    path("searches/<int:pk>/compare", views_compare.search_compare, name="compare"),
    path("searches/<int:pk>/controls", views_compare.search_controls, name="search_controls"),
    path("searches/<int:pk>/transfer", views_transfer.search_transfer, name="search_transfer"),
    path("assets/plotly-<str:version>.min.js", views_assets.plotly_js, name="plotly"),
]
