"""ASGI entry point: Django for HTTP, Channels for websockets (Daphne serves both), and
the ingest endpoint's lean route in front of Django for agents' usual batches."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "heatops.settings.dev")

from django.core.asgi import get_asgi_application  # noqa: E402

django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from django.conf import settings  # noqa: E402
from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler  # noqa: E402

from apps.ingest.fastpath import IngestFastPath  # noqa: E402
from heatops.middleware import StaticSecurityHeaders  # noqa: E402
from heatops.routing import websocket_urlpatterns  # noqa: E402

# Static files served here skip Django's middleware: the wrapper gives them the same
# security headers (CSP, nosniff, Referrer-Policy, X-Frame-Options) as the pages.
http_app = (
    StaticSecurityHeaders(ASGIStaticFilesHandler(django_asgi_app))
    if settings.HEATOPS_SERVE_STATIC
    else django_asgi_app
)
# Agents' plainly valid batches with a recently checked token are answered without
# Django's middleware and database round trip; every other request goes on to Django.
http_app = IngestFastPath(http_app)

application = ProtocolTypeRouter(
    {
        "http": http_app,
        "websocket": AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)

# Batches an earlier web process answered 204 for but had not yet delivered (it was killed,
# or InfluxDB was down) are delivered by this one from the start, not only after the next
# batch arrives (celery beat's ingest.drain_spool does it too, where beat runs).
if settings.HEATOPS_INGEST_WRITE_BEHIND:
    from apps.ingest.spool import get_spool, writer  # noqa: E402

    try:
        if get_spool().pending():
            writer.wake()
    except OSError:  # no spool folder yet: nothing left behind
        pass
