"""A maintenance window in real Chromium against the real stack (Daphne, the telemetry
pump, Redis, InfluxDB, each its own process): a pump failure during a window on the pump
is shown "in maintenance" and pages nobody (no notification task is queued for Celery);
ending the window early pages it."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import pytest
import redis
from playwright.sync_api import expect

from apps.telemetry.influx.client import InfluxClient
from apps.telemetry.influx.points import Point
from heatops.devstack import ADMIN_PASSWORD, stack

from .conftest import ARTIFACTS

QUEUE = "alarms"  # the Celery queue alarm notifications go to (CELERY_TASK_ROUTES)


def _own_redis_db(url: str, db: int = 7) -> str:
    """The session's Redis, on a database of this module's own: its Celery queue holds only
    what this stack enqueues."""
    return re.sub(r"(/\d+)?$", f"/{db}", url, count=1)


def _alarms_fire_at_once(s) -> None:
    s.django_shell("from apps.alarms.models import AlarmRule; AlarmRule.objects.update(for_seconds=0)")


@pytest.fixture(scope="module")
def live(services, stack_database):
    redis_url = _own_redis_db(services["redis_url"])
    redis.Redis.from_url(redis_url).flushdb()
    with (
        stack_database("maintenance") as database_url,
        stack(
            pump=True,
            influx_url=services["influx_url"],
            redis_url=redis_url,
            database="maintenance",
            database_url=database_url,
            extra_env={"HEATOPS_PUMP_TICK_S": "0.25"},
            before_start=_alarms_fire_at_once,
        ) as s,
    ):
        yield s


def queued_pages(queue) -> list[str]:
    """The notification tasks waiting for a Celery worker (the stack runs none), as their
    arguments: "(alarm id, transition, level)"."""
    return [json.loads(m)["headers"]["argsrepr"] for m in queue.lrange(QUEUE, 0, -1)]


def log_in(page, base: str) -> None:
    page.goto(base + "/accounts/login/")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", ADMIN_PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("h1")).to_have_text("Portfolio")


START_WINDOW = """
from datetime import timedelta
from django.contrib.auth import get_user_model
from django.utils import timezone
from apps.maintenance.services import window_schedule, window_start_early
from apps.sites.models import Site
site, eve, now = Site.objects.get(slug="pool"), get_user_model().objects.get(username="eve"), timezone.now()
w = window_schedule(site=site, asset=site.assets.get(slug="pump-primary"), reason="pump service", owner=eve,
    planned_start=now + timedelta(minutes=30), planned_end=now + timedelta(hours=2), user=eve, now=now)
window_start_early(window=w, user=eve, reason="the contractor came early", now=now)
print(w.pk)
"""

ALARM_ROW = """
import json
from apps.alarms.models import Alarm
a = Alarm.objects.get(title="Primary loop flow lost")
print(json.dumps({"pk": a.pk, "in_maintenance": a.in_maintenance, "level": a.escalation_level,
    "escalates": a.next_escalation_at is not None,
    "events": [(e.kind, e.note) for e in a.events.all()]}))
"""

END_WINDOW = """
from django.contrib.auth import get_user_model
from apps.maintenance.models import MaintenanceWindow
from apps.maintenance.services import window_end_early
window_end_early(window=MaintenanceWindow.objects.get(pk={pk}), user=get_user_model().objects.get(username="eve"),
    reason="pump back in service")
"""


def test_a_pump_failure_in_a_window_on_the_pump_shows_in_maintenance_and_pages_nobody_until_it_ends(
    live, browser
):
    ARTIFACTS.mkdir(exist_ok=True)
    queue = redis.Redis.from_url(live.redis_url)
    window_pk = int(live.django_shell(START_WINDOW))
    page = browser.new_page(viewport={"width": 1600, "height": 1000})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    log_in(page, live.web_url)
    expect(page.locator("#tile-pool .maintenance-banner")).to_contain_text(
        "In maintenance until", timeout=10_000
    )
    page.screenshot(path=str(ARTIFACTS / "maintenance-portfolio.png"))
    page.goto(live.web_url + "/sites/pool/")
    page.wait_for_function("() => document.querySelector('#live-points') !== null")
    banner = page.locator("#site-live .maintenance-banner")
    expect(banner).to_contain_text(
        # the end's time, with its day when that is not today (a window started late in the day)
        re.compile(
            r"In maintenance until (\w{3} \d\d \w{3} )?\d\d:\d\d: pump service, Primary loop pump \(Eve Hart\)"
        )
    )

    now = datetime.now(UTC)
    InfluxClient(url=live.influx_url, database=live.database, retention_policy="heatops").write(
        [
            Point("loop", {"site": "pool", "loop": "primary"}, {"flow_m3h": 0.0, "supply_temp_c": 50.0}, now),
            Point(
                "pump", {"site": "pool", "asset": "pump-primary"}, {"running": False, "speed_pct": 0.0}, now
            ),
        ]
    )
    card = page.locator(".site-alarms .alarm", has_text="Primary loop flow lost")
    expect(card).to_be_visible(timeout=10_000)
    expect(card.locator(".in-maintenance")).to_have_text("⚙ in maintenance")
    page.screenshot(path=str(ARTIFACTS / "maintenance-site-pool-alarm-held.png"), full_page=True)

    row = json.loads(live.django_shell(ALARM_ROW))
    assert row["in_maintenance"] and not row["escalates"] and row["level"] == 1
    kinds = [kind for kind, _ in row["events"]]
    assert kinds[:2] == ["fired", "note"] and "notified" not in kinds
    assert "In maintenance (window" in row["events"][1][1]
    ours = f"({row['pk']}, "
    assert [p for p in queued_pages(queue) if p.startswith(ours)] == []  # no notification even queued

    live.django_shell(END_WINDOW.format(pk=window_pk))
    expect(card.locator(".in-maintenance")).to_have_count(0, timeout=10_000)
    expect(banner).to_have_count(0, timeout=10_000)
    page.wait_for_timeout(1500)  # the release's broadcast and the pump's next ticks have arrived
    expect(card).to_have_count(1)  # its card changed in place, not added again
    row = json.loads(live.django_shell(ALARM_ROW))
    assert not row["in_maintenance"] and row["escalates"]
    assert row["events"][-1] == ["note", f"Maintenance window #{window_pk} (pump service) ended: paged now"]
    paged = [p for p in queued_pages(queue) if p.startswith(ours)]
    assert paged == [f"({row['pk']}, 'fired', 1)"]  # the page, for the Celery worker to send
    page.screenshot(path=str(ARTIFACTS / "maintenance-site-pool-window-ended.png"), full_page=True)

    page.goto(live.web_url + "/sites/pool/maintenance/")
    expect(page.locator("#windows")).to_contain_text("Ended")
    page.screenshot(path=str(ARTIFACTS / "maintenance-page-pool.png"), full_page=True)
    assert errors == []


def test_the_maintenance_page_fits_a_phone_with_its_forms_open(live, browser):
    page = browser.new_page(viewport={"width": 390, "height": 844})
    log_in(page, live.web_url)
    page.goto(live.web_url + "/sites/pool/maintenance/")
    for summary in page.locator("details > summary").all():
        summary.click()
    page.wait_for_timeout(300)
    page.screenshot(path=str(ARTIFACTS / "maintenance-page-phone.png"), full_page=True)
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
