"""The business case in real Chromium against the real stack (Daphne, InfluxDB, Redis, the
seeded demo): the page draws the cumulative cash-flow chart with every scenario, the
measured months and the projection, from the measured days written to InfluxDB."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

from apps.telemetry.influx.client import InfluxClient
from apps.telemetry.influx.points import Point
from heatops.devstack import ADMIN_PASSWORD, stack

from .conftest import ARTIFACTS


@pytest.fixture(scope="module")
def live(services, stack_database):
    with (
        stack_database("business") as database_url,
        stack(
            influx_url=services["influx_url"],
            redis_url=services["redis_url"],
            database="business",
            database_url=database_url,
        ) as s,
    ):
        yield s


def measured_days(s, days: int = 2) -> None:
    """The pool's last ``days`` days at one-minute resolution: 45 kW of IT load, 38 kW of heat."""
    end = datetime.now(UTC).replace(second=0, microsecond=0)
    start, t, points = end - timedelta(days=days), end - timedelta(days=days), []
    while t < end:
        hours = (t - start) / timedelta(hours=1)
        points.append(Point("facility", {"site": "pool"}, {"it_power_kw": 45.0, "total_power_kw": 51.0}, t))
        points.append(
            Point(
                "heat_meter",
                {"site": "pool", "asset": "meter-1"},
                {"power_kw": 38.0, "energy_kwh": 1000.0 + 38.0 * hours, "supply_temp_c": 50.0},
                t,
            )
        )
        t += timedelta(minutes=1)
    InfluxClient(url=s.influx_url, database=s.database, retention_policy="heatops").write(points)


def test_the_business_case_chart_draws_the_scenarios_and_the_measured_months(live, browser):
    measured_days(live)
    case = json.loads(
        live.django_shell(
            "import json; from apps.business.models import BusinessCase as B; c = B.objects.get(site__slug='pool');"
            "print(json.dumps({'start': c.start.isoformat(), 'kinds': sorted(c.scenarios.values_list('kind', flat=True))}))"
        )
    )
    assert case["kinds"] == ["aggressive", "conservative", "expected"]
    page = browser.new_page(viewport={"width": 1600, "height": 1000})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(live.web_url + "/accounts/login/")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", ADMIN_PASSWORD)
    page.click("button[type=submit]")
    page.goto(live.web_url + "/sites/pool/")
    page.click("text=business case")
    expect(page.locator("h1")).to_have_text("Business case: Northgate Leisure Pool")
    page.wait_for_function("() => window.caseReady === true", timeout=30_000)
    names = page.evaluate("() => document.getElementById('chart-cash').data.map(t => t.name)")
    assert names == [
        "Conservative plan",
        "Expected plan",
        "Aggressive plan",
        "Measured",
        "Projected from actuals",
    ]
    measured = page.evaluate(
        "() => document.getElementById('chart-cash').data[3].y.filter(v => v !== null).length"
    )
    assert measured >= 1
    assert page.locator("#chart-cash .scatterlayer .trace").count() == 5
    this_month = page.locator("#months tbody tr").last
    expect(this_month).to_contain_text("(so far)")
    heat = this_month.locator("td").nth(1).inner_text()
    assert "·" in heat and not heat.strip().endswith("—"), heat  # planned · measured
    expect(page.locator('#paybacks [data-kind="actual"] .value')).not_to_have_text("—")
    page.screenshot(path=str(ARTIFACTS / "business-case-pool.png"), full_page=True)
    assert errors == []
