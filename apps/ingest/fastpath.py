"""A lean ASGI route for the ingest endpoint's usual request, beside Django's stack.

Nearly every request an agent sends is the same: a POST to ``/ingest/<site>/write`` (or
the root ``/write``) with a token this web process checked moments ago and a batch whose
every line is plainly valid (``ingest_plain_batch``). For those, Django's middleware,
URL resolver, per-request thread and database connection cost several times what
checking and spooling the batch does. This route answers them itself: the same checks,
the same spool, the same 204 and headers.

Anything else, or anything it is unsure of, it hands to Django unchanged, the body it
has read replayed: a token not seen recently (or the shared cache unreachable, see
token_cache.py), another site in the URL, a batch with a line that is not plainly valid
or a time out of range, a body over the limit, an encoding other than none or gzip, a
precision it does not know, a host not in ALLOWED_HOSTS, plain HTTP where HTTPS is
required, a full spool. Django's view (views.py) then gives the answer, the same one it
always gives, so every refusal comes from one place.
"""

from __future__ import annotations

import asyncio
import re
import zlib
from urllib.parse import parse_qs

from django.conf import settings
from django.http.request import split_domain_port, validate_host

from apps.telemetry.lineprotocol import PRECISION_NS
from heatops.middleware import security_headers

from .services import ingest_plain_batch, ingest_token_site
from .spool import SpoolFull
from .views import token_from_header

# the paths of views.write (apps/ingest/urls.py), Django's slug converter included
_WRITE_PATH = re.compile(r"/(?:ingest/(?P<site>[-a-zA-Z0-9_]+)/)?write")


class IngestFastPath:
    """ASGI middleware: answers the usual ingest request, passes everything else on."""

    def __init__(self, app) -> None:
        self.app = app
        self.headers = [(k.lower().encode(), v.encode()) for k, v in security_headers().items()]

    async def __call__(self, scope, receive, send):
        match = None
        if scope["type"] == "http" and scope["method"] == "POST" and not scope.get("root_path"):
            match = _WRITE_PATH.fullmatch(scope["path"])
        if match is None:
            return await self.app(scope, receive, send)
        messages, body = await _read_body(receive, settings.HEATOPS_INGEST_MAX_BYTES)
        request = _request(scope, body)
        taken = False
        if request is not None:
            try:
                taken = await asyncio.to_thread(_take, match["site"], *request)
            except SpoolFull:
                taken = False  # Django answers 503 with Retry-After
        if taken:
            await send({"type": "http.response.start", "status": 204, "headers": self._headers(scope)})
            await send({"type": "http.response.body", "body": b""})
            return None
        return await self.app(scope, _replay(messages, receive), send)

    def _headers(self, scope) -> list[tuple[bytes, bytes]]:
        if settings.SECURE_HSTS_SECONDS and _secure(scope):  # as SecurityMiddleware adds it
            hsts = f"max-age={settings.SECURE_HSTS_SECONDS}"
            if settings.SECURE_HSTS_INCLUDE_SUBDOMAINS:
                hsts += "; includeSubDomains"
            if settings.SECURE_HSTS_PRELOAD:
                hsts += "; preload"
            return [*self.headers, (b"strict-transport-security", hsts.encode())]
        return self.headers


async def _read_body(receive, limit: int) -> tuple[list[dict], bytes | None]:
    """The messages received (to replay them to Django) and the whole body, or None for a
    body over ``limit`` (only ``limit`` + 1 bytes of it are read) or a client gone."""
    messages, size = [], 0
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            return messages, None
        size += len(message.get("body", b""))
        if size > limit:
            return messages, None
        if not message.get("more_body", False):
            return messages, b"".join(m.get("body", b"") for m in messages)


def _replay(messages: list[dict], receive):
    pending = list(messages)

    async def replayed():
        return pending.pop(0) if pending else await receive()

    return replayed


def _secure(scope) -> bool:
    header = settings.SECURE_PROXY_SSL_HEADER
    if header:
        name = header[0].removeprefix("HTTP_").replace("_", "-").lower().encode()
        for key, value in scope["headers"]:
            if key == name:
                return value.decode("latin-1").split(",")[0].strip() == header[1]
    return scope.get("scheme") == "https"


def _request(scope, body: bytes | None) -> tuple[str, bytes, str] | None:
    """(token, body, precision) if the request is one this route may answer, else None."""
    if body is None or settings.USE_X_FORWARDED_HOST:
        return None
    if settings.SECURE_SSL_REDIRECT and not _secure(scope):
        return None  # Django redirects it
    headers: dict[bytes, bytes] = {}
    for key, value in scope["headers"]:
        if key in headers:
            return None  # a repeated header: Django decides what it means
        headers[key] = value
    domain, _port = split_domain_port(headers.get(b"host", b"").decode("latin-1"))
    if not domain or not validate_host(domain, settings.ALLOWED_HOSTS):
        return None
    encoding = headers.get(b"content-encoding", b"identity").decode("latin-1").lower()
    if encoding == "gzip":
        limit = settings.HEATOPS_INGEST_MAX_BYTES
        try:
            decoder = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
            body = decoder.decompress(body, limit + 1)
        except zlib.error:
            return None
        if len(body) > limit or decoder.unconsumed_tail or not decoder.eof:
            return None
    elif encoding not in {"identity", ""}:
        return None
    if not body.isascii():
        return None  # the slow path checks UTF-8 and names the byte
    precision = (parse_qs(scope.get("query_string", b"").decode("latin-1")).get("precision") or ["ns"])[-1]
    if precision not in PRECISION_NS:
        return None
    token = token_from_header(headers.get(b"authorization", b"").decode("latin-1"))
    return (token, body, precision) if token else None


def _take(url_site: str | None, token: str, body: bytes, precision: str) -> bool:
    """Spool the batch and return True if the token is known good for the site and every
    line is plainly valid; else keep nothing and return False."""
    site_slug = ingest_token_site(raw=token)
    if site_slug is None or (url_site is not None and url_site != site_slug):
        return False
    return ingest_plain_batch(site_slug=site_slug, body=body, precision=precision) is not None
