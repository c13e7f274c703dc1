"""ASGI entry point (``uvicorn webapp.asgi:application``, see ``scripts/run.sh``): HTTP, static files
and websockets.

Static files are served by the app itself (``StaticFilesApp``: the ``collectstatic`` output in
``STATIC_ROOT``, falling back to the finders), so ``make run`` needs no nginx.
"""

from __future__ import annotations

import os

import django
from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIHandler
from django.http import HttpRequest, HttpResponseBase

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "webapp.settings")


class SyncChainASGIHandler(ASGIHandler):
    """Django's ASGI handler with the middleware chain run synchronously, in one thread hop.

    The stock handler runs the chain in async mode: every built-in middleware then crosses to a
    worker thread for its ``process_request``/``process_response`` (about 16 ``sync_to_async``
    hops per page, as our views are sync). Here the whole request -- middleware and view -- runs
    in one ``sync_to_async`` call, exactly as under WSGI; async views (``search_svg``) still
    work, adapted by Django. Measured (``bench/pages``, 20 clients, one server process,
    interleaved): 10-25 % more requests per second.
    """

    def load_middleware(self, is_async: bool = False) -> None:
        super().load_middleware(is_async=False)

    async def get_response_async(self, request: HttpRequest) -> HttpResponseBase:
        return await sync_to_async(self.get_response, thread_sensitive=True)(request)


django.setup(set_prefix=False)  # what get_asgi_application() does, before the imports below touch models
django_asgi_app = SyncChainASGIHandler()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from webapp.accounts.middleware import TokenAuthMiddleware, origin_validator  # noqa: E402
from webapp.bodylimit import BodyLimitApp  # noqa: E402
from webapp.searches.routing import websocket_urlpatterns  # noqa: E402
from webapp.staticfiles import StaticFilesApp  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": BodyLimitApp(StaticFilesApp(django_asgi_app)),
        "websocket": origin_validator(
            AuthMiddlewareStack(TokenAuthMiddleware(URLRouter(websocket_urlpatterns)))
        ),
    }
)
