"""The live pages in real headless Chromium, against the real stack: Daphne, the
telemetry pump, Redis and InfluxDB, each its own process as deploy/run starts them."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from playwright.sync_api import expect

from apps.reports.periods import last_month_at, local_today
from apps.telemetry.influx.client import InfluxClient
from apps.telemetry.influx.points import Point
from heatops.devstack import ADMIN_PASSWORD, stack

from .conftest import ARTIFACTS


def _alarms_fire_at_once(s) -> None:
    s.django_shell("from apps.alarms.models import AlarmRule; AlarmRule.objects.update(for_seconds=0)")


@pytest.fixture(scope="module")
def live(services, stack_database):
    with (
        stack_database("browser") as database_url,
        stack(
            pump=True,
            influx_url=services["influx_url"],
            redis_url=services["redis_url"],
            database="browser",
            database_url=database_url,
            extra_env={"HEATOPS_PUMP_TICK_S": "0.25"},
            before_start=_alarms_fire_at_once,
        ) as s,
    ):
        yield s


def log_in(page, base: str) -> None:
    page.goto(base + "/")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", ADMIN_PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("h1")).to_have_text("Portfolio")


def test_a_value_written_straight_into_influxdb_appears_on_the_open_site_page(live, browser):
    ARTIFACTS.mkdir(exist_ok=True)
    outside_agent = InfluxClient(url=live.influx_url, database=live.database, retention_policy="heatops")
    page = browser.new_page(viewport={"width": 1920, "height": 1080})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))

    log_in(page, live.web_url)
    page.screenshot(path=str(ARTIFACTS / "portfolio.png"))
    page.goto(live.web_url + "/sites/pool/")
    expect(page.locator("h1")).to_contain_text("Northgate Leisure Pool")
    page.wait_for_function("() => document.querySelector('#live-points') !== null")

    outside_agent.write(
        [
            Point(
                "facility",
                {"site": "pool"},
                {"it_power_kw": 87.65, "total_power_kw": 92.0},
                datetime.now(UTC),
            )
        ]
    )
    expect(page.locator("#q-power .number")).to_have_text("87.7 kW", timeout=10_000)
    expect(page.locator("#q-power")).not_to_have_class(re.compile("is-stale"))
    page.screenshot(path=str(ARTIFACTS / "site-pool.png"), full_page=True)

    page.goto(live.web_url + "/")
    expect(page.locator("#tile-pool")).to_contain_text("87.7 kW")
    assert errors == []


def test_an_alarm_fires_on_every_open_dashboard_and_one_acknowledgement_reaches_the_other(live, browser):
    """A pump failure written into InfluxDB raises an alarm on two people's screens; one
    acknowledges from the portfolio, the other's site page shows who did, at once."""
    outside_agent = InfluxClient(url=live.influx_url, database=live.database, retention_policy="heatops")
    first = browser.new_context(viewport={"width": 1600, "height": 1000}).new_page()
    second = browser.new_context(viewport={"width": 1600, "height": 1000}).new_page()
    for page in (first, second):
        log_in(page, live.web_url)
    second.goto(live.web_url + "/sites/pool/")
    second.wait_for_function("() => document.querySelector('#live-points') !== null")

    now = datetime.now(UTC)
    outside_agent.write(
        [
            Point("loop", {"site": "pool", "loop": "primary"}, {"flow_m3h": 0.0, "supply_temp_c": 50.0}, now),
            Point(
                "pump", {"site": "pool", "asset": "pump-primary"}, {"running": False, "speed_pct": 0.0}, now
            ),
        ]
    )
    tile_alarm = first.locator("#tile-pool .tile-alarm", has_text="Primary loop flow lost")
    expect(tile_alarm).to_be_visible(timeout=10_000)
    expect(second.locator(".site-alarms .alarm", has_text="Primary loop flow lost")).to_be_visible(
        timeout=10_000
    )

    first.on("dialog", lambda dialog: dialog.accept("on my way"))
    tile_alarm.get_by_role("button", name="Acknowledge").click()
    expect(first.locator("#toast")).to_contain_text("Acknowledged")
    expect(first.locator("#toast")).to_be_hidden(timeout=8_000)  # out of the way of the cards again
    expect(second.locator(".site-alarms .alarm", has_text="Primary loop flow lost")).to_contain_text(
        "acknowledged by admin", timeout=5_000
    )
    second.screenshot(path=str(ARTIFACTS / "site-pool-alarm.png"), full_page=True)
    first.screenshot(path=str(ARTIFACTS / "portfolio-alarm.png"))


def test_a_number_turns_grey_within_seconds_of_its_first_missed_reading(live, browser):
    """An agent writing every second stops: the number greys out a few seconds after the
    reading it should have sent, not after a fixed half minute."""
    outside_agent = InfluxClient(url=live.influx_url, database=live.database, retention_policy="heatops")
    page = browser.new_page(viewport={"width": 1600, "height": 1000})
    log_in(page, live.web_url)
    page.goto(live.web_url + "/sites/school/")
    page.wait_for_function("() => document.querySelector('#live-points') !== null")
    power = page.locator("#q-power")
    for i in range(8):  # one point a second, as a site's agent sends them
        outside_agent.write(
            [
                Point(
                    "facility",
                    {"site": "school"},
                    {"it_power_kw": 20.0 + i, "total_power_kw": 24.0},
                    datetime.now(UTC),
                )
            ]
        )
        page.wait_for_timeout(1000)
    expect(power.locator(".number")).to_have_text("27.0 kW", timeout=5_000)
    expect(power).not_to_have_class(re.compile("is-stale"))
    limit_ms = int(power.get_attribute("data-stale-ms"))
    assert 1000 < limit_ms <= 5000, limit_ms  # learnt from the cadence; the default is 30 s
    expect(power).to_have_class(re.compile("is-stale"), timeout=10_000)  # and nothing more was written
    expect(power.locator(".age")).to_contain_text("stale: last reading")


def _capacity_geometry(page) -> dict:
    return page.evaluate(
        """() => {
        const card = document.querySelector('#capacity').getBoundingClientRect();
        const gd = document.querySelector('#chart-capacity');
        const box = (sel) => { const el = gd.querySelector(sel); if (!el) return null;
            const r = el.getBoundingClientRect(); return {top: r.top, bottom: r.bottom, left: r.left, right: r.right, w: r.width, h: r.height}; };
        return {card: {top: card.top, bottom: card.bottom, left: card.left, right: card.right},
                title: box('.gtitle'), plot: box('.nsewdrag'), legend: box('.legend'),
                button: box('.modebar-btn'), buttonBg: (() => { const b = gd.querySelector('.modebar-btn');
                    return b ? getComputedStyle(b).backgroundColor : null; })(),
                modebarPosition: (() => { const m = gd.querySelector('.modebar'); return m ? getComputedStyle(m).position : null; })()};
    }"""
    )


def test_the_capacity_chart_keeps_its_layout_after_its_own_refresh(live, browser):
    """Toolbar, title and legend where they were the first time, Plotly's styles applied."""
    page = browser.new_page(viewport={"width": 1600, "height": 1000})
    log_in(page, live.web_url)
    page.goto(live.web_url + "/sites/pool/")
    page.wait_for_selector("#chart-capacity .main-svg")
    first = _capacity_geometry(page)
    # the section's own refresh, as its hx-trigger="every 300s" makes it
    page.evaluate("(url) => htmx.ajax('GET', url, {target: '#capacity'})", "/sites/pool/capacity/")
    page.wait_for_timeout(1500)
    again = _capacity_geometry(page)
    page.screenshot(path=str(ARTIFACTS / "capacity-after-refresh.png"), full_page=True)
    for g in (first, again):  # Plotly's styles applied, title above the plot, legend under it in the card
        assert g["modebarPosition"] == "absolute" and g["buttonBg"] == "rgba(0, 0, 0, 0)", g
        assert g["title"]["bottom"] <= g["plot"]["top"] and g["legend"]["top"] >= g["plot"]["bottom"], g
        assert g["legend"]["bottom"] <= g["card"]["bottom"] and g["button"]["right"] <= g["card"]["right"], g
    assert again["button"]["left"] == first["button"]["left"]  # the toolbar stays where it was


def test_the_tank_chart_reads_0_to_100_percent_and_delta_t_has_its_own_axis(live, browser):
    page = browser.new_page(viewport={"width": 1600, "height": 1000})
    log_in(page, live.web_url)
    page.goto(live.web_url + "/sites/pool/")
    page.wait_for_selector("#chart-tank .main-svg")
    page.wait_for_selector("#chart-loop .main-svg")
    tank_range = page.evaluate("() => document.getElementById('chart-tank').layout.yaxis.range")
    loop = page.evaluate(
        "() => { const gd = document.getElementById('chart-loop');"
        " return {axes: gd.data.map(t => t.yaxis), side: gd.layout.yaxis2.side}; }"
    )
    assert tank_range == [0, 100]
    assert loop == {"axes": ["y", "y", "y2"], "side": "right"}


@pytest.mark.parametrize("viewport", [(1920, 1080), (1366, 768), (390, 844)])
def test_no_figure_on_a_tile_runs_into_another(live, browser, viewport):
    outside_agent = InfluxClient(url=live.influx_url, database=live.database, retention_policy="heatops")
    now = datetime.now(UTC)
    outside_agent.write(
        [
            Point("facility", {"site": "school"}, {"it_power_kw": 188.8, "total_power_kw": 199.9}, now),
            Point("heat_meter", {"site": "school", "asset": "meter-1"}, {"power_kw": 177.7}, now),
            Point("loop", {"site": "school", "loop": "primary"}, {"delta_t_k": 18.8, "flow_m3h": 5.0}, now),
            Point("tank", {"site": "school", "asset": "tank-1"}, {"soc_pct": 100.0}, now),
            Point(
                "consumer",
                {"site": "school"},
                {"delivered_kw": 146.9, "demand_kw": 164.1, "online": True},
                now,
            ),
        ]
    )
    page = browser.new_page(viewport={"width": viewport[0], "height": viewport[1]})
    log_in(page, live.web_url)
    expect(page.locator("#tile-school")).to_contain_text("146.9 / 164.1 kW", timeout=10_000)
    boxes = page.evaluate(
        """() => [...document.querySelectorAll('#tile-school .figures > div')].map(d => {
            const r = d.querySelector('dd').getBoundingClientRect(); const t = d.querySelector('dt').getBoundingClientRect();
            return [d.querySelector('dt').textContent, [r.left, r.top, r.right, r.bottom], [t.left, t.top, t.right, t.bottom]]; })"""
    )
    page.screenshot(path=str(ARTIFACTS / f"portfolio-{viewport[0]}x{viewport[1]}.png"))

    def overlap(a, b):
        return a[0] < b[2] - 0.5 and b[0] < a[2] - 0.5 and a[1] < b[3] - 0.5 and b[1] < a[3] - 0.5

    rects = [
        (f"{name} {part}", box) for name, dd, dt in boxes for part, box in (("value", dd), ("label", dt))
    ]
    clashes = [(a, b) for i, (a, ra) in enumerate(rects) for b, rb in rects[i + 1 :] if overlap(ra, rb)]
    assert len(boxes) == 6 and clashes == []
    for path in ("/", "/sites/school/"):  # and neither page is wider than the screen
        page.goto(live.web_url + path)
        page.wait_for_timeout(500)
        assert page.evaluate("() => document.documentElement.scrollWidth") <= viewport[0], path


def test_no_page_is_wider_than_a_phone(live, browser):
    """Every page at 390x844: nothing wider than the screen (wide tables scroll in their box)."""
    page = browser.new_page(viewport={"width": 390, "height": 844})
    log_in(page, live.web_url)
    paths = [
        "/",
        "/sites/pool/",
        "/alarms/",
        "/incidents/",
        "/runbooks/",
        "/reports/",
        "/reports/pool/{:04d}-{:02d}/".format(*last_month_at("Europe/London")),  # charts and tables
        "/reports/pool/{:%Y-%m}/".format(local_today("Europe/London")),  # the month in progress
        "/sites/pool/raci/",
        "/sites/pool/audit/",
    ]
    for listing, link in (
        ("/alarms/", "main a.title"),
        ("/incidents/", "main table a"),
        ("/runbooks/", "main table a"),
    ):
        page.goto(live.web_url + listing)
        first = page.locator(link).first
        if first.count():
            paths.append(first.get_attribute("href"))
    too_wide = {}
    for path in paths:
        response = page.goto(live.web_url + path)
        assert response.status == 200, path
        if path.startswith("/reports/pool/"):
            page.wait_for_selector("#chart-daily .main-svg")  # the charts drawn
            page.screenshot(path=str(ARTIFACTS / f"phone-report-{path.split('/')[3]}.png"), full_page=True)
        page.wait_for_timeout(300)
        width = page.evaluate("() => document.documentElement.scrollWidth")
        if width > 390:
            too_wide[path] = width
    header = page.evaluate("() => document.querySelector('header.topbar').getBoundingClientRect().height")
    page.screenshot(path=str(ARTIFACTS / "phone-last-page.png"))
    assert too_wide == {}
    assert header <= 100  # the header leaves the screen to the page


def test_the_wall_screen_fits_the_four_answers_charts_and_capacity_on_one_screen(live, browser):
    page = browser.new_page(viewport={"width": 1920, "height": 1080})
    log_in(page, live.web_url)
    page.goto(live.web_url + "/sites/pool/?wall=1")
    page.wait_for_selector("#chart-capacity .main-svg")
    page.wait_for_selector("#chart-consumer .main-svg")
    bottoms = page.evaluate(
        """() => Object.fromEntries(['#q-power', '#q-heat', '#q-loop', '#q-consumer', '#chart-power',
            '#chart-loop', '#chart-tank', '#chart-consumer', '#chart-capacity']
            .map(sel => [sel, document.querySelector(sel).getBoundingClientRect().bottom]))"""
    )
    page.screenshot(path=str(ARTIFACTS / "wall-1920x1080.png"))
    assert {sel: bottom for sel, bottom in bottoms.items() if bottom > 1080} == {}
    assert page.evaluate("() => document.documentElement.scrollHeight") <= 1080
    sizes = page.evaluate("() => getComputedStyle(document.querySelector('#q-power .number')).fontSize")
    assert float(sizes.removesuffix("px")) >= 40  # readable from across the room
