"""Security the browser shows, in real headless Chromium against the real stack (Daphne,
the telemetry pump, Redis and InfluxDB, each its own process as deploy/run starts them)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

from apps.telemetry.influx import InfluxClient, Point
from heatops.devstack import stack

CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
PASSWORD = "boiler-room-7-browser"


def _people(s) -> None:
    s.django_shell(
        "from django.contrib.auth import get_user_model\n"
        "from apps.accounts.models import SiteAccess\n"
        "from apps.sites.models import Site\n"
        f"u = get_user_model().objects.create_user('rosa', password={PASSWORD!r})\n"
        "SiteAccess.objects.create(user=u, site=Site.objects.get(slug='pool'))\n"
    )


@pytest.fixture(scope="module")
def live(services):
    with stack(
        pump=True,
        influx_url=services["influx_url"],
        redis_url=services["redis_url"],
        database="browser_security",
        extra_env={"HEATOPS_PUMP_TICK_S": "0.25"},
        before_start=_people,
    ) as s:
        yield s


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is missing: deploy/bootstrap --dev installs it")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield b
        b.close()


def log_in(page, base: str, username: str, password: str) -> None:
    page.goto(base + "/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    expect(page.locator("h1")).to_have_text("Portfolio")


def it_power(agent: InfluxClient, kw: float) -> None:
    agent.write([Point("facility", {"site": "pool"}, {"it_power_kw": kw}, datetime.now(UTC))])


def test_an_open_site_page_stops_receiving_once_the_access_is_removed(live, browser):
    agent = InfluxClient(url=live.influx_url, database=live.database, retention_policy="heatops")
    page = browser.new_context(viewport={"width": 1600, "height": 1000}).new_page()
    frames: list[str] = []
    page.on("websocket", lambda ws: ws.on("framereceived", lambda payload: frames.append(str(payload))))
    log_in(page, live.web_url, "rosa", PASSWORD)
    page.goto(live.web_url + "/sites/pool/")
    page.wait_for_function("() => document.querySelector('#live-points') !== null")

    it_power(agent, 71.23)
    expect(page.locator("#q-power .number")).to_have_text("71.2 kW", timeout=10_000)

    live.django_shell(
        "from apps.accounts.models import SiteAccess\n"
        "SiteAccess.objects.get(user__username='rosa', site__slug='pool').delete()\n"
    )
    with page.expect_response(
        lambda r: r.request.is_navigation_request() and r.url.endswith("/sites/pool/"), timeout=15_000
    ) as reloaded:
        it_power(agent, 72.34)  # the next update closes the socket instead of reaching the page
    assert reloaded.value.status == 404  # the page reloaded, and the site is no longer there for rosa
    assert any("71.2 kW" in f for f in frames)
    assert not any("72.3 kW" in f for f in frames)
    expect(page.locator("body")).not_to_contain_text(re.compile("72.3 kW"))
