"""ASGI entry point (``daphne webapp.asgi:application``): HTTP, static files and websockets.

Static files are served by the app itself (``StaticFilesApp``: the ``collectstatic`` output in
``STATIC_ROOT``, falling back to the finders), so ``make run`` needs no nginx.
"""

from __future__ import annotations

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "webapp.settings")
django_asgi_app = get_asgi_application()  # sets Django up before the imports below touch models

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from webapp.accounts.middleware import TokenAuthMiddleware, origin_validator  # noqa: E402
from webapp.searches.routing import websocket_urlpatterns  # noqa: E402
from webapp.staticfiles import StaticFilesApp  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": StaticFilesApp(django_asgi_app),
        "websocket": origin_validator(
            AuthMiddlewareStack(TokenAuthMiddleware(URLRouter(websocket_urlpatterns)))
        ),
    }
)
