"""The alarm list filtered on maintenance keeps to its filter live: through the real ASGI
stack and Redis channel layer, a new alarm a window holds does not land on a page showing
only alarms not in maintenance, and the others do (and the other way round)."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client

from apps.alarms import services as alarms
from heatops.asgi import application

from .test_windows import window_on

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


async def alarm_list_socket(user, query: str) -> WebsocketCommunicator:
    client = Client()
    await sync_to_async(client.force_login)(user)
    headers = [
        (b"origin", b"http://127.0.0.1"),
        (b"host", b"127.0.0.1"),
        (b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode()),
    ]
    ws = WebsocketCommunicator(application, f"/ws/alarms/?{query}", headers=headers)
    connected, _ = await ws.connect()
    assert connected
    return ws


async def received_until(ws, marker: str) -> str:
    """Everything the socket sends up to and including the message naming ``marker``."""
    seen = []
    while not seen or marker not in seen[-1]:
        seen.append(await ws.receive_from(timeout=5))
    return "\n".join(seen)


@pytest.mark.parametrize(
    "query, shown, hidden",
    [
        ("maintenance=not", "Telemetry missing", "Flow lost"),
        ("maintenance=held", "Flow lost", "Telemetry missing"),
    ],
)
async def test_a_new_alarm_reaches_the_list_only_if_it_matches_the_maintenance_filter(
    pool, pump, people, pump_rule, site_rule, now, query, shown, hidden
):
    await sync_to_async(window_on)(pool, people, now, asset=pump)
    ws = await alarm_list_socket(people["eve"], query)
    first, second = (pump_rule, site_rule) if hidden == "Flow lost" else (site_rule, pump_rule)
    await sync_to_async(alarms.alarm_raise)(rule=first, value=0.0, detail="", now=now)
    await sync_to_async(alarms.alarm_raise)(rule=second, value=0.0, detail="", now=now)
    text = await received_until(ws, shown)
    assert hidden not in text
    await ws.disconnect()
