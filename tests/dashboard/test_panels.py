"""Drill-down rows: a row's mark comes from its own asset's limits, its open alarms and the
age of its reading; rows carry the assets' names; alarms lead with their root cause."""

from __future__ import annotations

from datetime import timedelta

import pytest

from apps.alarms.choices import AlarmState, Domain, RuleKind, Severity
from apps.alarms.models import Alarm, AlarmRule
from apps.alarms.selectors import open_alarms_for_sites
from apps.dashboard.config import SiteConfig
from apps.dashboard.live import render_site
from apps.dashboard.status import site_status
from apps.telemetry.influx.results import Reading
from apps.telemetry.live import SiteReadings, series_key

pytestmark = pytest.mark.django_db


def readings(now, *points, age_s: float = 1) -> SiteReadings:
    r = SiteReadings("pool")
    t = int((now - timedelta(seconds=age_s)).timestamp() * 1000)
    for measurement, tags, fields in points:
        r.series[series_key(measurement, tags)] = Reading(measurement, {"site": "pool", **tags}, t, fields)
    return r


def alarm(site, title, *, fired, severity=Severity.CRITICAL, asset=None, measurement="", tags=None):
    rule = AlarmRule.objects.create(
        site=site,
        name=title,
        kind=RuleKind.ABOVE,
        severity=severity,
        domain=Domain.THERMAL,
        meaning=title,
        measurement=measurement,
        field="x",
        tags=tags or {},
        threshold=1,
        asset=asset,
    )
    return Alarm.objects.create(
        rule=rule,
        site=site,
        asset=asset,
        severity=severity,
        domain=Domain.THERMAL,
        title=title,
        message=title,
        fired_at=fired,
        state=AlarmState.FIRING,
    )


def rows_by_name(status):
    return {row.name: row for row in [*status.electrical, *status.thermal, *status.workload]}


def test_a_stopped_pump_and_hot_racks_are_marked_by_their_limits_and_alarms(demo_sites, now):
    pool = demo_sites["pool"]
    rack_a = pool.assets.get(slug="rack-a")
    alarm(
        pool,
        "Primary loop flow lost",
        fired=now - timedelta(minutes=5),
        measurement="loop",
        tags={"loop": "primary"},
    )
    alarm(pool, "Rack A inlet too hot", fired=now - timedelta(minutes=2), asset=rack_a)
    r = readings(
        now,
        ("pump", {"asset": "pump-primary"}, {"speed_pct": 0.0, "running": False, "power_kw": 0.0}),
        ("loop", {"loop": "primary"}, {"supply_temp_c": 58.0, "return_temp_c": 57.5, "flow_m3h": 0.0}),
        ("loop", {"loop": "secondary"}, {"supply_temp_c": 40.0, "return_temp_c": 35.0, "flow_m3h": 4.0}),
        ("rack", {"asset": "rack-a"}, {"power_kw": 30.0, "inlet_temp_c": 54.0}),
        ("rack", {"asset": "rack-b"}, {"power_kw": 30.0, "inlet_temp_c": 40.0}),
        ("heat_meter", {"asset": "meter-1"}, {"power_kw": 0.0, "flow_m3h": 0.0, "energy_kwh": 1234.5}),
        ("consumer", {}, {"delivered_kw": 10.0, "demand_kw": 40.0, "online": True}),
    )
    status = site_status(
        SiteConfig.from_site(pool),
        r,
        now=now,
        stale_after_s=30,
        alarms=open_alarms_for_sites([pool.pk])[pool.pk],
    )
    rows = rows_by_name(status)
    assert rows["Primary loop pump"].icon == "✕" and "no flow" in rows["Primary loop pump"].why
    assert rows["Primary loop"].icon == "✕"
    assert rows["Rack A"].icon == "✕" and rows["Rack B"].icon == "✓"
    assert rows["Rack A"].why == "inlet 54.0 °C is above its rated 45 °C"
    assert ("", "inlet 54.0 °C is above its rated 45 °C") in rows["Rack A"].values  # said on the row
    assert rows["Heat meter, pool delivery"].values[2] == ("register", "1,234.5 kWh")
    assert rows["Secondary loop"].icon == "✓"
    assert rows["Heat consumer"].icon == "!" and "25%" in rows["Heat consumer"].why
    assert not any(name.startswith(("Pump pump-", "Tank tank-")) for name in rows)  # names, not slugs
    # root cause first: the flow alarm fired first, so it leads the headline and the tile
    assert status.health_reason == "Alarm: Primary loop flow lost (+1 more)"
    tile = render_site(status)["tile_html"]
    assert tile.index("Primary loop flow lost") < tile.index("Rack A inlet too hot")


def test_a_row_whose_reading_is_old_is_not_ticked(demo_sites, now):
    pool = demo_sites["pool"]
    r = readings(now, ("rack", {"asset": "rack-b"}, {"power_kw": 30.0, "inlet_temp_c": 40.0}), age_s=120)
    rows = rows_by_name(site_status(SiteConfig.from_site(pool), r, now=now, stale_after_s=30))
    assert rows["Rack B"].icon == "?" and rows["Rack B"].why == "the reading is old"
    assert rows["Rack A"].icon == "?" and rows["Rack A"].why == "no reading"  # configured, never heard from


def test_a_tile_with_many_alarms_says_how_many_more(demo_sites, now):
    pool = demo_sites["pool"]
    for i in range(5):
        alarm(pool, f"Alarm {i}", fired=now - timedelta(minutes=10 - i), severity=Severity.MINOR)
    status = site_status(
        SiteConfig.from_site(pool),
        SiteReadings("pool"),
        now=now,
        stale_after_s=30,
        alarms=open_alarms_for_sites([pool.pk])[pool.pk],
    )
    tile = render_site(status)["tile_html"]
    assert "Alarm 0" in tile and "Alarm 1" in tile and "Alarm 2" not in tile
    assert "+3 more open alarms" in tile and "?site=pool" in tile
