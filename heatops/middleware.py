"""Project-wide request handling that no single app owns."""

from __future__ import annotations

import logging

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse

log = logging.getLogger("heatops.requests")

# The ingest endpoint takes batches up to HEATOPS_INGEST_MAX_BYTES and says so itself.
_OWN_LIMIT = ("/ingest/", "/write", "/query")


class RequestSizeLimitMiddleware:
    """A request body over DATA_UPLOAD_MAX_MEMORY_SIZE is answered 413 with a plain
    reason, before anything reads it, and logged as a warning: it is the client's mistake,
    not the server's (Django would answer 400 and log an ERROR with a traceback)."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if limit is not None and not request.path.startswith(_OWN_LIMIT):
            try:
                size = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                size = 0
            if size > limit:
                log.warning(
                    "refused %s %s: body of %d bytes over the limit of %d",
                    request.method,
                    request.path,
                    size,
                    limit,
                )
                message = f"The request is {size} bytes; heatops takes at most {limit} bytes here."
                if request.headers.get("Accept", "").startswith("text/html"):
                    return HttpResponse(message, status=413, content_type="text/plain; charset=utf-8")
                return JsonResponse({"error": message}, status=413)
        return self.get_response(request)
