from __future__ import annotations

from django.urls import path

from webapp.searches.consumers import SearchConsumer

websocket_urlpatterns = [
    path("ws/searches/<int:search_id>/", SearchConsumer.as_asgi()),
]
