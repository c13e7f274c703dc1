"""plotly.js served from the installed Python ``plotly`` package: never a CDN, cached for a year.

The URL carries the plotly version, so a new package version is a new URL and the long
``immutable`` cache is safe.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache

import plotly
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotModified
from django.views.decorators.http import require_GET

PLOTLY_VERSION = plotly.__version__
ONE_YEAR = 365 * 24 * 3600


@lru_cache(maxsize=1)
def plotly_bundle() -> tuple[bytes, str]:
    from plotly.offline import get_plotlyjs

    body = get_plotlyjs().encode("utf-8")
    return body, hashlib.sha256(body).hexdigest()[:16]


@require_GET
def plotly_js(request: HttpRequest, version: str) -> HttpResponse:
    if version != PLOTLY_VERSION:
        raise Http404("unknown plotly version")
    body, etag = plotly_bundle()
    quoted = f'"{etag}"'
    if request.headers.get("If-None-Match") == quoted:
        return HttpResponseNotModified()
    response = HttpResponse(body, content_type="text/javascript; charset=utf-8")
    response["Cache-Control"] = f"public, max-age={ONE_YEAR}, immutable"
    response["ETag"] = quoted
    return response
