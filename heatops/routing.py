"""Websocket routes of every app, gathered in one list for asgi.py."""

from apps.alarms.routing import websocket_urlpatterns as alarms
from apps.dashboard.routing import websocket_urlpatterns as dashboard

websocket_urlpatterns = [*dashboard, *alarms]
