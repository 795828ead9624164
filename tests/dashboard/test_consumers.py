"""The websockets, through the real ASGI stack (session auth, origin check), the real
Redis channel layer and the real InfluxDB."""

from datetime import UTC, datetime

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client

from apps.dashboard.live import Publisher
from apps.telemetry.influx.points import Point
from apps.telemetry.pump import TelemetryPump
from heatops.asgi import application

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


def session_of(user) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value


async def connect(path: str, session: str | None = None):
    headers = [(b"origin", b"http://127.0.0.1"), (b"host", b"127.0.0.1")]
    if session:
        headers.append((b"cookie", f"sessionid={session}".encode()))
    communicator = WebsocketCommunicator(application, path, headers=headers)
    connected, _ = await communicator.connect()
    return communicator, connected


async def test_anonymous_people_cannot_open_a_live_stream(demo_sites):
    for path in ("/ws/sites/pool/", "/ws/portfolio/"):
        communicator, connected = await connect(path)
        assert not connected
        await communicator.disconnect()


async def test_a_person_cannot_open_another_sites_stream(pool_user):
    session = await sync_to_async(session_of)(pool_user)
    for path in ("/ws/sites/school/", "/ws/sites/no-such-site/"):
        communicator, connected = await connect(path, session)
        assert not connected
        await communicator.disconnect()


async def test_a_point_written_to_influxdb_reaches_the_open_page(influx, pool_user):
    session = await sync_to_async(session_of)(pool_user)
    site_ws, connected = await connect("/ws/sites/pool/", session)
    assert connected
    portfolio_ws, connected = await connect("/ws/portfolio/", session)
    assert connected
    try:
        pump = TelemetryPump(client=influx, handlers=[Publisher()])
        await sync_to_async(influx.write)(
            [Point("facility", {"site": "pool"}, {"it_power_kw": 73.21}, datetime.now(UTC))]
        )
        await sync_to_async(pump.tick)()

        messages = [await site_ws.receive_from(timeout=5) for _ in range(2)]  # system banner, then the site
        site_html = next(m for m in messages if 'id="site-live"' in m)
        assert "73.2 kW" in site_html and 'hx-swap-oob="true"' in site_html
        assert '"it_kw": [' in site_html.replace("&quot;", '"')  # the chart point rides along
        tiles = [await portfolio_ws.receive_from(timeout=5) for _ in range(2)]
        pool_tile = next(m for m in tiles if 'id="tile-pool"' in m)
        assert "73.2 kW" in pool_tile
        assert not any('id="tile-school"' in m for m in tiles)  # not this person's site

        # a browser that (re)connects now gets the current state at once
        late_ws, connected = await connect("/ws/sites/pool/", session)
        assert connected
        first = [await late_ws.receive_from(timeout=5) for _ in range(2)]
        assert any("73.2 kW" in m for m in first)
        await late_ws.disconnect()
    finally:
        await site_ws.disconnect()
        await portfolio_ws.disconnect()
