from __future__ import annotations

from django.urls import path

from webapp.designer import views

app_name = "designer"

urlpatterns = [
    path("spaces", views.spaces, name="spaces"),
    path("preview", views.preview, name="preview"),
    path("estimate", views.estimate, name="estimate"),
    path("plan", views.plan, name="plan"),
]
