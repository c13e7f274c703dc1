from __future__ import annotations

from django.urls import path

from webapp.workers import views

app_name = "workers"
urlpatterns = [path("", views.worker_page, name="workers")]
