"""The simulator against a real InfluxDB: what it wrote, read back through the client."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from django.utils import timezone

from apps.simulator.backfill import backfill_window, simulation_backfill
from apps.simulator.choices import FaultKind
from apps.simulator.exceptions import SimulatorError
from apps.simulator.live import SimulationRunner, simulation_run_live
from apps.simulator.physics import SiteModel
from apps.simulator.selectors import simulated_site_specs
from apps.simulator.services import fault_clear, fault_start
from apps.telemetry import schema
from heatops.devservices.base import free_port

from .conftest import aggregate, ms, rows

pytestmark = pytest.mark.django_db

POOL = {"site": "pool"}


def values(influx, measurement, field, start, end, *, tags=POOL, every="10s", aggregate="last"):
    series = influx.window(
        measurement=measurement,
        fields=[field],
        start=start,
        end=end,
        every=every,
        tags=tags,
        aggregate=aggregate,
    )
    return [row[field] for row in rows(series)]


def one(influx, measurement, field, start, end, function, *, tags=POOL):
    series = aggregate(
        influx, measurement=measurement, field=field, start=start, end=end, function=function, tags=tags
    )
    return next((row[field] for s in series for row in s.rows()), None)


# --- (1) energy balance and (2) no heat from nowhere ---------------------------------------------


@pytest.mark.parametrize("site", ["pool", "school"])
def test_the_heat_meter_register_is_the_integral_of_its_power(backfill, influx, t0, site):
    backfill(start=t0, minutes=180, step=10.0, sites=[site])
    start, end = t0, t0 + timedelta(minutes=181)
    tags = {"site": site}
    register = one(influx, "heat_meter", "energy_kwh", start, end, "spread", tags=tags)
    integral = one(influx, "heat_meter", "power_kw", start, end, "integral", tags=tags)
    assert integral > 20.0  # hours of real heat, not a trivially empty window
    assert register == pytest.approx(integral, rel=0.01)

    series = influx.window(
        measurement="heat_meter",
        fields=["power_kw", "flow_m3h", "supply_temp_c", "return_temp_c"],
        start=start,
        end=end,
        every="10s",
        tags=tags,
        aggregate="last",
    )
    meter = rows(series)
    assert len(meter) == 180 * 6
    for row in meter:
        expected = row["flow_m3h"] * 998 / 3600 * 4.18 * (row["supply_temp_c"] - row["return_temp_c"])
        assert row["power_kw"] == pytest.approx(expected, rel=0.01, abs=1e-6)


@pytest.mark.parametrize("site", ["pool", "school"])
def test_heat_delivered_never_exceeds_it_energy_plus_heat_pump_electricity(backfill, influx, t0, site):
    backfill(start=t0, minutes=360, step=30.0, sites=[site])
    start, end = t0, t0 + timedelta(minutes=361)
    tags = {"site": site}

    def hourly(measurement, field):
        series = aggregate(
            influx,
            measurement=measurement,
            field=field,
            start=start,
            end=end,
            function="integral",
            tags=tags,
            every="1h",
        )
        return {row["time"]: row[field] or 0.0 for s in series for row in s.rows()}

    delivered = hourly("heat_meter", "power_kw")
    it = hourly("facility", "it_power_kw")
    lift = hourly("heat_pump", "power_kw") if site == "school" else {}
    assert len(delivered) >= 6
    cumulative_delivered = cumulative_input = 0.0
    for hour in sorted(delivered):
        cumulative_delivered += delivered[hour]
        cumulative_input += it[hour] + lift.get(hour, 0.0)
        assert cumulative_delivered <= cumulative_input
    assert cumulative_delivered > 0.3 * cumulative_input  # and the heat does reach the building


# --- (3) each fault's physical signature --------------------------------------------------------


def test_pump_failure_stops_the_flow_and_the_racks_heat_up(backfill, influx, t0, demo_sites):
    failed, repaired = t0 + timedelta(minutes=30), t0 + timedelta(minutes=75)
    fault_start(site=demo_sites["pool"], kind=FaultKind.PUMP_FAILURE, at=failed)
    fault_clear(site=demo_sites["pool"], kind=FaultKind.PUMP_FAILURE, at=repaired)
    backfill(start=t0, minutes=100, step=10.0, sites=["pool"])

    settled = failed + timedelta(minutes=2)
    assert one(influx, "loop", "flow_m3h", settled, repaired, "max", tags={**POOL, "loop": "primary"}) == 0.0
    assert one(influx, "pump", "speed_pct", failed, repaired, "max") == 0.0
    assert values(influx, "pump", "running", failed, repaired, every="5m") == [False] * 9
    assert one(influx, "heat_meter", "power_kw", settled, repaired, "max") == 0.0

    before = one(influx, "rack", "inlet_temp_c", t0 + timedelta(minutes=10), failed, "max")
    return_before = one(influx, "loop", "return_temp_c", t0, failed, "max", tags={**POOL, "loop": "primary"})
    inlet = values(
        influx, "rack", "inlet_temp_c", failed, repaired, tags={**POOL, "asset": "rack-a"}, every="1m"
    )
    hot = [i for i, value in enumerate(inlet) if value > before + 5.0]
    assert hot and hot[0] >= 2  # thermal inertia: not at once, but within minutes
    assert max(values(influx, "node", "inlet_temp_c", failed, repaired, every="1m")) > before + 5.0
    climbed = one(influx, "loop", "return_temp_c", failed, repaired, "max", tags={**POOL, "loop": "primary"})
    assert climbed > return_before + 5.0

    recovered = one(
        influx,
        "loop",
        "flow_m3h",
        repaired + timedelta(minutes=5),
        repaired + timedelta(minutes=25),
        "min",
        tags={**POOL, "loop": "primary"},
    )
    assert recovered > 1.0


def test_consumer_offline_fills_the_tank_then_opens_the_dump_path(backfill, influx, t0, demo_sites):
    offline = t0 + timedelta(minutes=30)
    fault_start(site=demo_sites["pool"], kind=FaultKind.CONSUMER_OFFLINE, at=offline)
    backfill(start=t0, minutes=270, step=30.0, sites=["pool"])
    end = t0 + timedelta(minutes=271)

    assert one(influx, "consumer", "delivered_kw", offline, end, "max") == 0.0
    assert set(values(influx, "consumer", "online", offline, end, every="10m")) == {False}
    soc = values(influx, "tank", "soc_pct", offline, end, every="10m", aggregate="mean")
    assert soc[-1] >= 99.5
    assert soc[0] < 95.0 and soc.index(max(soc)) > 3  # it rose, over the hours
    dump = values(influx, "dry_cooler", "active", offline, end, every="10m")
    assert dump[0] is False and dump[-1] is True
    assert one(influx, "dry_cooler", "heat_kw", end - timedelta(minutes=30), end, "min") > 20.0
    returns = values(influx, "heat_meter", "return_temp_c", t0, end, every="10m", aggregate="mean")
    assert returns[-1] > returns[0] + 8.0  # the return climbs as the tank fills
    assert one(influx, "rack", "inlet_temp_c", t0, end, "max") < 45.0  # the dump path keeps the racks safe


def test_a_stuck_sensor_repeats_itself_while_the_plant_moves(backfill, influx, t0, demo_sites):
    stuck = t0 + timedelta(minutes=30)
    fault_start(site=demo_sites["pool"], kind=FaultKind.STUCK_SENSOR, at=stuck)
    backfill(start=t0, minutes=90, step=10.0, sites=["pool"])
    end = t0 + timedelta(minutes=91)
    primary = {**POOL, "loop": "primary"}

    assert one(influx, "loop", "supply_temp_c", t0, stuck, "spread", tags=primary) > 0.05
    assert one(influx, "loop", "supply_temp_c", stuck, end, "spread", tags=primary) == 0.0
    assert one(influx, "loop", "supply_temp_c", stuck, end, "count", tags=primary) == 60 * 6 + 1
    assert one(influx, "facility", "it_power_kw", stuck, end, "spread") > 1.0
    assert one(influx, "loop", "flow_m3h", stuck, end, "spread", tags=primary) > 0.05


def test_lost_telemetry_silences_one_site_only(backfill, influx, t0, demo_sites):
    lost, back = t0 + timedelta(minutes=30), t0 + timedelta(minutes=60)
    fault_start(site=demo_sites["pool"], kind=FaultKind.LOST_TELEMETRY, at=lost)
    fault_clear(site=demo_sites["pool"], kind=FaultKind.LOST_TELEMETRY, at=back)
    backfill(start=t0, minutes=90, step=10.0)

    for name, spec in schema.MEASUREMENTS.items():
        field = next(iter(spec.fields))
        assert one(influx, name, field, lost, back, "count") is None, name
    assert one(influx, "facility", "it_power_kw", lost, back, "count", tags={"site": "school"}) == 30 * 6
    assert one(influx, "facility", "it_power_kw", t0, lost, "count") == 30 * 6 - 1
    assert one(influx, "facility", "it_power_kw", back, back + timedelta(minutes=30), "count") == 30 * 6
    # the meter kept counting while nobody heard it
    register = values(
        influx,
        "heat_meter",
        "energy_kwh",
        lost - timedelta(minutes=1),
        back + timedelta(minutes=1),
        every="1m",
    )
    assert register[-1] - register[0] > 10.0


def test_overheating_drives_the_inlet_past_the_racks_limit_over_minutes(backfill, influx, t0, demo_sites):
    limit = demo_sites["pool"].assets.get(slug="rack-a").max_inlet_temp_c
    hot = t0 + timedelta(minutes=30)
    fault_start(site=demo_sites["pool"], kind=FaultKind.OVERHEATING, at=hot)
    backfill(start=t0, minutes=70, step=10.0, sites=["pool"])
    end = t0 + timedelta(minutes=71)

    assert one(influx, "rack", "inlet_temp_c", t0, hot, "max") < limit
    inlet = values(influx, "rack", "inlet_temp_c", hot, end, tags={**POOL, "asset": "rack-a"}, every="1m")
    assert inlet[0] < limit  # a minute in, still inside
    assert max(inlet) > limit
    assert set(values(influx, "dry_cooler", "active", hot, end, every="10m")) == {False}
    assert one(influx, "consumer", "delivered_kw", hot, end, "max") == 0.0
    assert True in values(
        influx, "node", "throttled", hot, end, tags={**POOL, "asset": "node-a1"}, every="1m"
    )


# --- the live loop --------------------------------------------------------------------------------


def test_live_after_a_backfill_continues_the_register_and_the_tank(backfill, influx, demo_sites):
    start, end = backfill_window(days=2 / 24, step=10.0)
    backfill(start=start, minutes=120, step=10.0)
    last = {
        (r.measurement, r.tags["site"]): r.fields
        for r in influx.latest(measurements=["heat_meter", "tank"], lookback="1d")
    }

    runner = SimulationRunner(specs=simulated_site_specs(), seed=1, interval=5.0)
    assert runner.tick(at=end + timedelta(seconds=5)) == 40
    now = {
        (r.measurement, r.tags["site"]): r
        for r in influx.latest(measurements=["heat_meter", "tank"], lookback="1d")
    }
    for site in ("pool", "school"):
        assert now[("heat_meter", site)].time == end + timedelta(seconds=5)
        register, before = (
            now[("heat_meter", site)].fields["energy_kwh"],
            last[("heat_meter", site)]["energy_kwh"],
        )
        assert before > 10.0
        assert before <= register <= before + 0.2  # at most 5 s of heat more
        assert now[("tank", site)].fields["soc_pct"] == pytest.approx(
            last[("tank", site)]["soc_pct"], abs=1.0
        )


def test_the_live_loop_ticks_on_whole_intervals_of_the_clock(influx, demo_sites):
    """The loop against a clock of the test's own: no sleeping, no timing."""
    now = [timezone.now().timestamp() - 600.0 + 0.3]
    naps, lines = [], []

    def sleep(seconds: float) -> None:
        naps.append(seconds)
        now[0] += seconds

    ticks = simulation_run_live(
        specs=simulated_site_specs(),
        interval=5.0,
        ticks=3,
        report=lines.append,
        clock=lambda: now[0],
        sleep=sleep,
    )
    assert ticks == 3 and len(naps) == 3
    times = {r.time.timestamp() for r in influx.latest(lookback="1h")}
    assert len(times) == 1 and times.pop() % 5 == 0  # every series' last point on the same whole tick
    series = influx.window(
        measurement="facility",
        fields=["it_power_kw"],
        start=timezone.now() - timedelta(hours=1),
        end=timezone.now(),
        every="5s",
        tags=POOL,
    )
    assert len(rows(series)) == 3
    assert [line.split(" ", 2)[1] for line in lines] == ["pool:", "school:"]  # one status line per site
    with pytest.raises(SimulatorError, match="between 1 and 10 seconds"):
        simulation_run_live(specs=simulated_site_specs(), interval=11.0, ticks=1)


def test_live_ticks_keep_going_when_influxdb_is_unreachable(demo_sites, settings, caplog):
    settings.INFLUX = {**settings.INFLUX, "URL": f"http://127.0.0.1:{free_port()}", "TIMEOUT": 0.5}
    runner = SimulationRunner(specs=simulated_site_specs(), seed=1)
    now = timezone.now()
    with caplog.at_level(logging.WARNING, logger="apps.simulator"):
        assert runner.tick(at=now) == 0
        assert runner.tick(at=now + timedelta(seconds=5)) == 0
    warnings = [r.getMessage() for r in caplog.records]
    assert len(warnings) == 1  # one line, not one per tick
    assert "cannot write to InfluxDB" in warnings[0] and "127.0.0.1" in warnings[0]


# --- (5) read back, every point fits the schema; workers agree ---------------------------------


def test_what_the_simulator_wrote_reads_back_inside_the_schema(influx, demo_sites):
    start, end = backfill_window(days=1 / 24, step=10.0)
    simulation_backfill(specs=simulated_site_specs(), start=start, end=end, step=10.0)
    readings = influx.latest(lookback="2h")
    assert {r.measurement for r in readings} == set(schema.MEASUREMENTS)
    assert len(readings) == 40
    for reading in readings:
        schema.validate(reading.measurement, reading.tags, reading.fields)
        assert reading.time == end


def test_a_backfill_in_two_processes_writes_what_one_process_would(influx, demo_sites, t0):
    specs = simulated_site_specs()
    result = simulation_backfill(specs=specs, start=t0, end=t0 + timedelta(hours=1), step=10.0, workers=2)
    assert result.workers == 2 and result.points == 360 * 40

    for spec in specs:  # the same models stepped here, in this process
        model = SiteModel(spec, seed=1)
        for k in range(1, 361):
            model.step(t0 + timedelta(seconds=10 * k), 10.0)
        end = t0 + timedelta(hours=1)
        reading = {
            r.measurement: r
            for r in influx.latest(measurements=["heat_meter"], tags={"site": spec.slug}, lookback="400d")
        }["heat_meter"]
        assert ms(reading.time) == ms(end)
        assert reading.fields["energy_kwh"] == pytest.approx(model.meter_energy, abs=1e-4)
