"""Serving static files from the ASGI app, so the ASGI server (uvicorn) is the whole web tier.

Django's ``ASGIStaticFilesHandler`` serves through the finders (the source folders); this
subclass serves the ``collectstatic`` output in ``STATIC_ROOT`` first (what production would
put behind a web server) and falls back to the finders for files not collected yet.
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler
from django.contrib.staticfiles.views import serve as serve_from_finders
from django.http import HttpRequest, HttpResponseBase
from django.views.static import serve as serve_from_directory


class StaticFilesApp(ASGIStaticFilesHandler):
    def serve(self, request: HttpRequest) -> HttpResponseBase:
        path = self.file_path(request.path)
        root = Path(settings.STATIC_ROOT)
        if (root / path).is_file():
            response = serve_from_directory(request, path, document_root=str(root))
        else:
            response = serve_from_finders(request, path, insecure=True)
        response.headers.setdefault("Cache-Control", "no-cache")  # revalidate: ETag-less, but Last-Modified
        return response
