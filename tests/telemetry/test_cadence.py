"""A series is stale a few seconds after the point it should have sent, by its own cadence."""

from __future__ import annotations

from datetime import timedelta

import pytest

from apps.dashboard.config import SiteConfig
from apps.dashboard.status import site_status
from apps.telemetry.influx.points import Point
from apps.telemetry.pump import TelemetryPump

pytestmark = pytest.mark.django_db


def test_an_agent_every_ten_seconds_is_stale_soon_after_its_first_missed_point(demo_sites, influx, now):
    pump = TelemetryPump(client=influx, handlers=[])
    cfg = SiteConfig.from_site(demo_sites["pool"])
    start = now - timedelta(seconds=60)
    pump.tick(now=start)  # the first read: nothing yet, and nothing learnt from it
    for i in range(6):  # a point every 10 s, each read by the pump 2 s after it was taken
        at = start + timedelta(seconds=10 * i)
        influx.write([Point("facility", {"site": "pool"}, {"it_power_kw": 40.0 + i}, at)])
        pump.tick(now=at + timedelta(seconds=2))
    last = start + timedelta(seconds=50)
    reading = pump.state["pool"].one("facility")
    assert reading.stale_after_ms == 2_000 + 10_000 + 3_000  # lag + interval + slack

    def status(at):
        return site_status(cfg, pump.state["pool"], now=at, stale_after_s=30)

    assert status(last + timedelta(seconds=14)).questions[0].level != "unknown"  # next point merely due
    late = status(last + timedelta(seconds=16))
    assert late.stale and "old" in late.questions[0].verdict
    assert late.stale_ms == late.questions[0].stale_ms == 15_000


def test_until_the_cadence_is_known_the_default_limit_holds(demo_sites, influx, now):
    influx.write([Point("facility", {"site": "pool"}, {"it_power_kw": 40.0}, now)])
    pump = TelemetryPump(client=influx, handlers=[])
    pump.tick(now=now)
    status = site_status(
        SiteConfig.from_site(demo_sites["pool"]),
        pump.state["pool"],
        now=now + timedelta(seconds=29),
        stale_after_s=30,
    )
    assert not status.stale and status.stale_ms == 30_000


def test_a_point_with_one_field_keeps_the_others_with_their_own_age(demo_sites, influx, now, settings):
    """A BMS gateway writes the loop's flow on its own: the temperatures stay on the page,
    with the age of their own last reading."""
    cfg = SiteConfig.from_site(demo_sites["pool"])
    full = now - timedelta(seconds=20)
    loop = {"site": "pool", "loop": "primary"}
    influx.write([Point("loop", loop, {"supply_temp_c": 45.0, "return_temp_c": 38.0, "flow_m3h": 6.0}, full)])
    live = TelemetryPump(client=influx, handlers=[])
    live.tick(now=full + timedelta(seconds=1))
    influx.write([Point("loop", loop, {"flow_m3h": 5.5}, now - timedelta(seconds=2))])
    live.tick(now=now)
    started_later = TelemetryPump(client=influx, handlers=[])  # its first read sees both points
    started_later.tick(now=now)

    for pump in (live, started_later):
        reading = pump.state["pool"].one("loop", loop="primary")
        assert reading.fields == {"supply_temp_c": 45.0, "return_temp_c": 38.0, "flow_m3h": 5.5}
        assert reading.time_of("flow_m3h") - reading.time_of("supply_temp_c") == 18_000
        status = site_status(cfg, pump.state["pool"], now=now, stale_after_s=30)
        row = next(r for r in status.thermal if r.name == "Primary loop")
        assert row.values == [("supply", "45.0 °C"), ("return", "38.0 °C"), ("flow", "5.5 m³/h")]
        assert row.time_ms == int(full.timestamp() * 1000)  # as old as its oldest number
        assert status.points["supply_c"][0] == int(full.timestamp() * 1000)  # charts place it then
