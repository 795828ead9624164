"""Project-wide request handling that no single app owns."""

from __future__ import annotations

import logging

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse

log = logging.getLogger("heatops.requests")

# The pages load only heatops' own scripts (no inline script, no event-handler attributes,
# no eval: htmx's allowEval is off in _base.html), so one injected <script> cannot run.
# Styles may be inline: Plotly and htmx add <style> elements and style attributes.
# 'self' in connect-src covers fetch and the websockets of the same host (CSP level 3).
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "frame-ancestors 'none'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
    ]
)


def security_headers() -> dict[str, str]:
    """The headers every response carries, Django's pages and static files alike."""
    headers = {
        "Content-Security-Policy": CONTENT_SECURITY_POLICY,
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": getattr(settings, "X_FRAME_OPTIONS", "DENY"),
    }
    if settings.SECURE_REFERRER_POLICY:
        headers["Referrer-Policy"] = settings.SECURE_REFERRER_POLICY
    if settings.SECURE_CROSS_ORIGIN_OPENER_POLICY:
        headers["Cross-Origin-Opener-Policy"] = settings.SECURE_CROSS_ORIGIN_OPENER_POLICY
    return headers


class SecurityHeadersMiddleware:
    """Content-Security-Policy (Django 5.2 has none built in) and the other security
    headers on every Django response that does not set its own; SecurityMiddleware and
    XFrameOptionsMiddleware set most of them too, this makes sure of all of them."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response
        self.headers = security_headers()

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        for name, value in self.headers.items():
            response.headers.setdefault(name, value)
        return response


class StaticSecurityHeaders:
    """ASGI wrapper for what Django's middleware never sees: the static files Daphne serves
    itself (ASGIStaticFilesHandler). Adds the headers a response does not already carry."""

    def __init__(self, app) -> None:
        self.app = app
        self.headers = [(k.lower().encode(), v.encode()) for k, v in security_headers().items()]

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                extra = [(k, v) for k, v in self.headers if k not in present]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        return await self.app(scope, receive, send_with_headers)


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
