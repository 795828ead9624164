"""Open websockets do not outlive access: once a person's site access is removed, their
session logs out, their account is deactivated or their password changes, an already open
site, portfolio or alarm-list socket closes (4403) at its next event instead of
forwarding it, and cannot be opened again without access. Through the real ASGI stack,
the real Redis channel layer and cache, and the real InfluxDB and pump."""

from __future__ import annotations

from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client

from apps.accounts.models import SiteAccess
from apps.alarms import services as alarm_services
from apps.alarms.choices import RuleKind
from apps.alarms.models import AlarmRule
from apps.dashboard.live import Publisher
from apps.telemetry.influx.points import Point
from apps.telemetry.pump import TelemetryPump
from heatops.asgi import application

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


def session_of(user) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value


def log_out(session: str) -> None:
    client = Client()
    client.cookies["sessionid"] = session
    assert client.post("/accounts/logout/").status_code == 302


async def connect(path: str, session: str):
    headers = [
        (b"origin", b"http://127.0.0.1"),
        (b"host", b"127.0.0.1"),
        (b"cookie", f"sessionid={session}".encode()),
    ]
    communicator = WebsocketCommunicator(application, path, headers=headers)
    connected, code = await communicator.connect()
    return communicator, connected, code


def rule(site, name: str) -> AlarmRule:
    return AlarmRule.objects.create(
        site=site,
        name=name,
        kind=RuleKind.ABOVE,
        severity="major",
        domain="thermal",
        meaning="The loop runs hot.",
        measurement="loop",
        field="supply_temp_c",
        threshold=60,
    )


@pytest.fixture
def person(demo_sites, django_user_model):
    """An estates person with access to both sites."""
    user = django_user_model.objects.create_user("rosa", password="boiler-room-7")
    for site in demo_sites.values():
        SiteAccess.objects.create(user=user, site=site)
    return user


class Live:
    """The pump and the three sockets of one person's open pages."""

    def __init__(self, influx, now, sites):
        self.influx, self.now, self.sites = influx, now, sites
        self.pump = TelemetryPump(client=influx, handlers=[Publisher()])
        self.n = 0

    async def tick(self, kw: float) -> None:
        self.n += 1
        when = self.now - timedelta(seconds=10 - self.n)  # each point newer than the last
        await sync_to_async(self.influx.write)(
            [Point("facility", {"site": "pool"}, {"it_power_kw": kw}, when)]
        )
        await sync_to_async(self.pump.tick)(now=self.now)

    async def alarm(self, name: str) -> None:
        r = await sync_to_async(rule)(self.sites["pool"], name)
        await sync_to_async(alarm_services.alarm_raise)(rule=r, value=71.0, detail="", now=self.now)


async def open_pages(live: Live, session: str) -> dict[str, WebsocketCommunicator]:
    """The pump has published once; each page gets the current state as it connects."""
    await live.tick(61.11)
    sockets = {}
    for name, path, first in (
        ("site", "/ws/sites/pool/", 2),  # system banner, the site
        ("portfolio", "/ws/portfolio/", 3),  # system banner, two tiles
        ("alarms", "/ws/alarms/", 1),  # system banner
    ):
        ws, connected, _ = await connect(path, session)
        assert connected, path
        for _ in range(first):
            await ws.receive_from(timeout=5)
        sockets[name] = ws
    return sockets


async def assert_live(live: Live, sockets) -> None:
    await live.tick(62.22)
    assert "62.2 kW" in await sockets["site"].receive_from(timeout=5)
    assert "62.2 kW" in await sockets["portfolio"].receive_from(timeout=5)
    await live.alarm("Supply hot (before)")
    assert "Supply hot (before)" in await sockets["site"].receive_from(timeout=5)
    assert "Supply hot (before)" in await sockets["alarms"].receive_from(timeout=5)


async def assert_closed_at_next_event(live: Live, sockets) -> None:
    await live.tick(63.33)
    await live.alarm("Supply hot (after)")
    for name, ws in sockets.items():
        output = await ws.receive_output(timeout=5)
        assert output == {"type": "websocket.close", "code": 4403}, (name, output)
        assert await ws.receive_nothing(timeout=0.2), name  # and nothing after it


def remove_pool_access(user, sites, session) -> None:
    SiteAccess.objects.get(user=user, site=sites["pool"]).delete()


def deactivate(user, sites, session) -> None:
    user.is_active = False
    user.save()


def change_password(user, sites, session) -> None:
    user.set_password("a-new-boiler-room-8")
    user.save()


def logout(user, sites, session) -> None:
    log_out(session)


@pytest.mark.parametrize("change", [remove_pool_access, deactivate, change_password, logout])
async def test_open_sockets_close_at_the_next_event_once_access_changes(
    influx, now, demo_sites, person, change
):
    session = await sync_to_async(session_of)(person)
    live = Live(influx, now, demo_sites)
    sockets = await open_pages(live, session)
    try:
        await assert_live(live, sockets)
        await sync_to_async(change)(person, demo_sites, session)
        await assert_closed_at_next_event(live, sockets)

        # and the page cannot simply reconnect
        again, connected, _ = await connect("/ws/sites/pool/", session)
        assert not connected
        await again.disconnect()
    finally:
        for ws in sockets.values():
            await ws.disconnect()


async def test_access_to_the_other_site_still_shows_it_after_reconnecting(influx, now, demo_sites, person):
    session = await sync_to_async(session_of)(person)
    live = Live(influx, now, demo_sites)
    sockets = await open_pages(live, session)
    try:
        await sync_to_async(remove_pool_access)(person, demo_sites, session)
        await assert_closed_at_next_event(live, sockets)
        portfolio, connected, _ = await connect("/ws/portfolio/", session)
        assert connected
        first = [await portfolio.receive_from(timeout=5) for _ in range(2)]
        assert any('id="tile-school"' in m for m in first)
        assert not any('id="tile-pool"' in m for m in first)
        assert await portfolio.receive_nothing(timeout=0.2)
        await portfolio.disconnect()
    finally:
        for ws in sockets.values():
            await ws.disconnect()


async def test_changes_to_someone_else_or_another_session_leave_a_socket_open(
    influx, now, demo_sites, person, django_user_model
):
    other = await sync_to_async(django_user_model.objects.create_user)("otto")
    await sync_to_async(SiteAccess.objects.create)(user=other, site=demo_sites["pool"])
    session = await sync_to_async(session_of)(person)
    second_session = await sync_to_async(session_of)(person)
    live = Live(influx, now, demo_sites)
    sockets = await open_pages(live, session)
    try:
        await sync_to_async(SiteAccess.objects.filter(user=other).delete)()
        await sync_to_async(log_out)(second_session)
        await assert_live(live, sockets)
    finally:
        for ws in sockets.values():
            await ws.disconnect()
