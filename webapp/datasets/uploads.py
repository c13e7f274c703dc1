"""The Django-side upload limit: a ``FileUploadHandler`` that stops a file past ``DATASET_MAX_UPLOAD_BYTES``.

Under uvicorn ``webapp.bodylimit`` already refuses such bodies before Django reads them; this
handler holds the same limit wherever Django parses a multipart body itself (the test client,
a WSGI server), counting bytes as they are parsed so nothing past the limit is kept.
"""

from __future__ import annotations

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.http import HttpRequest

REJECTED = "_upload_too_large"


class LimitedUploadHandler(FileUploadHandler):
    """Listed first in ``FILE_UPLOAD_HANDLERS``: passes chunks on until a file passes the limit."""

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        if start + len(raw_data) > settings.DATASET_MAX_UPLOAD_BYTES:
            if self.request is not None:
                setattr(self.request, REJECTED, True)
            raise StopUpload(connection_reset=True)
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None


def upload_too_large(request: HttpRequest) -> bool:
    """Whether the limit cut this request's upload short (read ``request.FILES`` first)."""
    return bool(getattr(request, REJECTED, False))
