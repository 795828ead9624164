"""Several web processes: a browser's socket held by one Daphne process gets the updates of
an action taken through another, because they share the Redis channel layer (and the
database). Real processes, as deploy/run starts them: two Daphnes on one database, and
the haproxy that deploy/run puts in front of them."""

from __future__ import annotations

import time

import httpx
import pytest
from websockets.sync.client import connect

from heatops.devservices.balancer import HaproxyServer
from heatops.devservices.base import free_port
from heatops.devstack import ADMIN_PASSWORD, stack

RAISE_AN_ALARM = """
from django.utils import timezone
from apps.alarms import services
from apps.alarms.models import AlarmRule
rule = AlarmRule.objects.filter(site__slug="pool").order_by("pk").first()
print(services.alarm_raise(rule=rule, value=0.0, detail="raised by the test", now=timezone.now()).pk)
"""
RESOLVE_EVERY_ALARM = """
from django.utils import timezone
from apps.alarms.models import Alarm
Alarm.objects.update(state="resolved", resolved_at=timezone.now())
print("ok")
"""


@pytest.fixture(scope="module")
def two_webs(services, stack_database):
    """One stack (database, InfluxDB, Redis) with two Daphne processes, A and B."""
    with (
        stack_database("webs") as database_url,
        stack(
            influx_url=services["influx_url"],
            redis_url=services["redis_url"],
            database="webs",
            database_url=database_url,
        ) as s,
    ):
        b = s.serve("heatops.asgi:application", "daphne-b", ready_path="/ingest/pool/ping")
        yield s, s.web_url, b


@pytest.fixture
def alarm_pk(two_webs) -> int:
    s, _, _ = two_webs
    s.django_shell(RESOLVE_EVERY_ALARM)  # one open alarm per rule: start from none
    return int(s.django_shell(RAISE_AN_ALARM))


def log_in(client: httpx.Client, base: str) -> None:
    client.get(f"{base}/accounts/login/").raise_for_status()
    answer = client.post(
        f"{base}/accounts/login/",
        data={
            "username": "admin",
            "password": ADMIN_PASSWORD,
            "csrfmiddlewaretoken": client.cookies["csrftoken"],
        },
    )
    assert answer.status_code == 302, answer.text[:500]
    assert "sessionid" in client.cookies


def acknowledge(client: httpx.Client, base: str, pk: int) -> None:
    answer = client.post(
        f"{base}/alarms/{pk}/ack/",
        headers={"X-CSRFToken": client.cookies["csrftoken"], "HX-Request": "true"},
    )
    assert answer.status_code == 200, answer.text[:500]
    assert "Acknowledged" in answer.text


def site_socket(base: str, client: httpx.Client):
    ws_url = base.replace("http://", "ws://") + "/ws/sites/pool/"
    return connect(
        ws_url,
        additional_headers={"Origin": base, "Cookie": f"sessionid={client.cookies['sessionid']}"},
        open_timeout=15,
    )


def wait_for_acknowledgement(ws, pk: int) -> str:
    """The first message that shows alarm ``pk`` acknowledged (a deadline for failing, not
    a timing assertion)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            message = ws.recv(timeout=max(0.1, deadline - time.monotonic()))
        except TimeoutError:
            break
        if f'id="alarm-{pk}"' in message and "acknowledged by" in message:
            return message
    pytest.fail(f"the socket never showed alarm {pk} acknowledged")


def test_an_acknowledgement_through_one_web_process_reaches_a_socket_held_by_another(two_webs, alarm_pk):
    _, a, b = two_webs
    assert a != b
    with httpx.Client(timeout=15) as browser:
        log_in(browser, a)  # the session is in the shared database: B knows it too
        with site_socket(a, browser) as ws:
            acknowledge(browser, b, alarm_pk)
            shown = wait_for_acknowledgement(ws, alarm_pk)
    assert "acknowledged by <strong>admin</strong>" in shown


def test_deploy_runs_balancer_carries_the_socket_and_the_action(two_webs, alarm_pk):
    """deploy/run's haproxy, with the configuration it writes, in front of A and B: the
    websocket upgrade passes through it and so does the acknowledgement, wherever each
    lands."""
    s, a, b = two_webs
    balancer = HaproxyServer(
        root=s.root / "haproxy",
        port=free_port(),
        backends=[int(a.rsplit(":", 1)[1]), int(b.rsplit(":", 1)[1])],
    )
    balancer.start()
    try:
        with httpx.Client(timeout=15) as browser:
            log_in(browser, balancer.url)
            with site_socket(balancer.url, browser) as ws:
                acknowledge(browser, balancer.url, alarm_pk)
                shown = wait_for_acknowledgement(ws, alarm_pk)
        assert "acknowledged by <strong>admin</strong>" in shown
    finally:
        balancer.stop()
