"""The ingest endpoint: InfluxDB-v1-compatible /write for sites' own agents.

Telegraf's [[outputs.influxdb]] reaches it unchanged with
``urls = ["http://<heatops>/ingest/<site>"]`` and the token as password (or an
``Authorization: Token ...`` header). Clients that cannot take a path prefix (the
``influx`` CLI, some gateways) use the same views at the root, ``/write``, ``/ping`` and
``/query``, the site being the token's. See docs/ingest.md for every answer it gives.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import zlib

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from apps.telemetry.lineprotocol import PRECISION_NS

from .services import ingest_batch, ingest_token_authenticate
from .spool import SpoolFull

INFLUX_API_VERSION = "1.8.10"  # the InfluxDB v1 write API the endpoint serves


def _error(status: int, message: str, **extra) -> JsonResponse:
    response = JsonResponse({"error": message, **extra}, status=status)
    if status == 401:
        response["WWW-Authenticate"] = 'Token realm="heatops ingest"'
    return response


def token_from_header(header: str) -> str:
    """The token from ``Authorization: Token|Bearer <token>`` or basic auth's password.
    Anything malformed gives "" (answered 401). Tokens in the URL are not taken: web
    servers log URLs."""
    scheme, _, value = header.strip().partition(" ")
    scheme = scheme.lower()
    if scheme in {"token", "bearer"}:
        return value.strip()
    if scheme == "basic":
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError, ValueError):
            return ""
        return decoded.partition(":")[2]
    return ""


def _authorise(request: HttpRequest, site_slug: str | None):
    """The token if it may write to ``site_slug`` (None: the token's own site, for the
    root paths), else an error response."""
    raw = token_from_header(request.headers.get("Authorization", ""))
    if not raw:
        return None, _error(
            401,
            "no usable token: send 'Authorization: Token <token>', or basic auth with the token as the password",
        )
    token = ingest_token_authenticate(raw=raw)
    if token is None:
        return None, _error(401, "the token is unknown or revoked")
    if site_slug is not None and token.site.slug != site_slug:
        return None, _error(403, f"this token may not write to site '{site_slug}'")
    if not token.site.is_active:
        return None, _error(403, f"site '{token.site.slug}' is deactivated: it takes no telemetry")
    return token, None


def _body(request: HttpRequest) -> tuple[bytes | None, JsonResponse | None]:
    limit = settings.HEATOPS_INGEST_MAX_BYTES
    try:
        declared = int(request.headers.get("Content-Length") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        return None, _error(413, f"the body is {declared} bytes; the limit is {limit}: send smaller batches")
    raw = request.read(limit + 1)  # not request.body: Django's smaller form limit is not ours
    if len(raw) > limit:
        return None, _error(413, f"the body is over the limit of {limit} bytes: send smaller batches")
    encoding = request.headers.get("Content-Encoding", "identity").lower()
    if encoding == "gzip":
        try:
            decoder = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
            raw = decoder.decompress(raw, limit + 1)
            if len(raw) > limit or decoder.unconsumed_tail:
                return None, _error(413, f"the body is over the limit of {limit} bytes once unzipped")
        except (zlib.error, gzip.BadGzipFile):
            return None, _error(400, "the body is not valid gzip")
    elif encoding not in {"identity", ""}:
        return None, _error(415, f"Content-Encoding '{encoding}' is not supported; use gzip or none")
    try:
        raw.decode("utf-8")
        return raw, None
    except UnicodeDecodeError as exc:
        return None, _error(400, f"the body is not UTF-8 (byte {exc.start})")


@csrf_exempt
@require_POST
def write(request: HttpRequest, site_slug: str | None = None) -> HttpResponse:
    token, denied = _authorise(request, site_slug)
    if denied:
        return denied
    body, bad = _body(request)
    if bad:
        return bad
    precision = request.GET.get("precision", "ns") or "ns"
    if precision not in PRECISION_NS:
        return _error(400, f"precision '{precision}' is not one of {', '.join(PRECISION_NS)}")
    try:
        result = ingest_batch(site=token.site, body=body, precision=precision)
    except SpoolFull as exc:
        response = _error(
            503, f"InfluxDB is unreachable and {exc}; nothing from this batch was kept, retry later"
        )
        response["Retry-After"] = "30"
        return response
    if result.lines == 0:
        return _error(400, "the body holds no lines")
    if result.rejected:
        return _error(
            400,
            f"{result.rejected_count} of {result.lines} lines rejected; the other {result.written} were accepted",
            accepted=result.written,
            rejected=[r for r in result.rejected if "reason" in r],
            rejected_count=result.rejected_count,
        )
    return HttpResponse(status=204)


@csrf_exempt
@require_http_methods(["GET", "POST"])
def query(request: HttpRequest, site_slug: str | None = None) -> HttpResponse:
    """Answers the CREATE DATABASE that Telegraf's InfluxDB output sends at start-up;
    heatops keeps its own database, so there is nothing to do. Reads are not offered."""
    token, denied = _authorise(request, site_slug)
    if denied:
        return denied
    statement = (request.POST.get("q") or request.GET.get("q") or "").strip()
    if statement.upper().startswith("CREATE DATABASE"):
        return JsonResponse({"results": [{"statement_id": 0}]})
    return _error(400, "the ingest endpoint only accepts writes; queries are not served here")


async def ping(request: HttpRequest, site_slug: str | None = None) -> HttpResponse:
    """InfluxDB's /ping, which Telegraf and the InfluxDB clients call before writing; they
    read the version header (the v1 API heatops speaks)."""
    response = HttpResponse(status=204)
    response["X-Influxdb-Version"] = INFLUX_API_VERSION
    response["X-Influxdb-Build"] = "heatops"
    return response
