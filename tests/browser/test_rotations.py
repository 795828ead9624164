"""The demo's on-call rotation in real Chromium against the real stack (Daphne, Redis,
InfluxDB, the demo seed): an alarm's page shows who of the weekly DevOps rotation is on
call now and who is next; a swap for a day made on the rotation's page puts the next
person on call at once, on the alarm page and in the rotation's iCalendar file."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from playwright.sync_api import expect

from heatops.devstack import stack

from .conftest import ARTIFACTS
from .test_maintenance import log_in

ALARM_AND_ROTA = """
import datetime
import json
from apps.alarms.models import AlarmRule
from apps.alarms.services import alarm_raise
from apps.ownership.models import Rotation
from apps.ownership.rotations import local, now_and_next
now = datetime.datetime.fromisoformat("__NOW__")
rule = AlarmRule.objects.get(site__slug="pool", name="Site telemetry missing")
alarm = alarm_raise(rule=rule, value=None, detail="no data", now=now)
rotation = Rotation.objects.get(name="DevOps on-call (weekly)")
current, upcoming = now_and_next(rotation, now)
print(json.dumps({"alarm": alarm.pk, "rotation": rotation.pk, "now": current.user.get_full_name(),
    "next": upcoming.user.get_full_name(), "next_pk": upcoming.user.pk,
    "london": local(rotation, now).replace(tzinfo=None).isoformat()}))
"""


@pytest.fixture(scope="module")
def live(services, stack_database):
    with (
        stack_database("rotations") as database_url,
        stack(
            influx_url=services["influx_url"],
            redis_url=services["redis_url"],
            database="rotations",
            database_url=database_url,
        ) as s,
    ):
        yield s


def test_the_alarm_page_shows_who_is_on_call_now_and_next_and_follows_a_swap(live, browser, now):
    ARTIFACTS.mkdir(exist_ok=True)
    seeded = json.loads(live.django_shell(ALARM_AND_ROTA.replace("__NOW__", now.isoformat())))
    assert {seeded["now"], seeded["next"]} == {"Sam Patel", "Alex Kim"}  # the demo's two, in turn
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    log_in(page, live.web_url)

    page.goto(f"{live.web_url}/alarms/{seeded['alarm']}/")
    line = page.locator(f"#on-call-{seeded['rotation']}")
    expect(line).to_contain_text("DevOps on-call (weekly) (alarm response)")
    expect(line.locator(".on-call-now")).to_contain_text(seeded["now"])
    expect(line.locator(".on-call-now")).to_contain_text("until Mon")  # weekly, handing over on Mondays
    expect(line.locator(".on-call-next")).to_contain_text(seeded["next"])
    page.screenshot(path=str(ARTIFACTS / "rotation-alarm-on-call.png"), full_page=True)

    # a swap for a day, on the rotation's page: the next person takes over from now
    line.get_by_role("link", name="DevOps on-call (weekly)").click()
    expect(page.locator("h1")).to_have_text("DevOps on-call (weekly)")
    page.locator("summary", has_text="Put someone else on call").click()
    # the stack's clock, not this process's (which runs shifted under the CI's faketime run)
    london = datetime.fromisoformat(seeded["london"]).replace(second=0, microsecond=0)
    page.select_option("select[name=user]", str(seeded["next_pk"]))
    page.fill("input[name=starts_at]", (london - timedelta(minutes=1)).isoformat(timespec="minutes"))
    page.fill("input[name=ends_at]", (london + timedelta(days=1)).isoformat(timespec="minutes"))
    page.fill("form.maintenance-form input[name=reason]", "swap for a day: dentist")
    page.get_by_role("button", name="Add override").click()
    expect(page.locator(".messages")).to_contain_text("is on call instead")
    expect(page.locator("#overrides")).to_contain_text("swap for a day: dentist")
    expect(page.locator("#history")).to_contain_text("added on-call override")
    page.screenshot(path=str(ARTIFACTS / "rotation-page-override.png"), full_page=True)

    page.goto(f"{live.web_url}/alarms/{seeded['alarm']}/")
    now_part = page.locator(f"#on-call-{seeded['rotation']} .on-call-now")
    expect(now_part).to_contain_text(seeded["next"])
    expect(now_part.locator(".badge")).to_have_text("override")
    expect(page.locator(f"#on-call-{seeded['rotation']} .on-call-next")).to_contain_text(seeded["now"])
    page.screenshot(path=str(ARTIFACTS / "rotation-alarm-after-swap.png"), full_page=True)

    ics = page.request.get(f"{live.web_url}/on-call/{seeded['rotation']}/calendar.ics")
    assert ics.ok and ics.headers["content-type"].startswith("text/calendar")
    assert f"SUMMARY:On call: {seeded['next']} (DevOps on-call (weekly))" in ics.text()
    assert errors == []


def test_the_on_call_page_fits_a_phone(live, browser):
    page = browser.new_page(viewport={"width": 390, "height": 844})
    log_in(page, live.web_url)
    page.goto(live.web_url + "/on-call/")
    expect(page.locator("#rotations")).to_contain_text("DevOps on-call (weekly)")
    page.screenshot(path=str(ARTIFACTS / "rotation-list-phone.png"), full_page=True)
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
