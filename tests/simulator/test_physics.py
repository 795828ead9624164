"""The site model on its own: deterministic, inside the schema, energy kept.

These step the pure model (no InfluxDB); tests/simulator/test_services.py checks the
same physics as read back from InfluxDB.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from apps.assets.choices import AssetKind
from apps.assets.water import KW_PER_M3H_K
from apps.simulator.choices import FaultKind
from apps.simulator.exceptions import SimulatorError
from apps.simulator.numerics import heat_pump_cop, tank_temperatures
from apps.simulator.physics import SiteModel
from apps.simulator.profiles import consumer_demand, is_school_occupied
from apps.simulator.selectors import simulated_site_specs
from apps.telemetry import schema
from tests.factories import make_asset, make_site

pytestmark = pytest.mark.django_db


def run(spec, start, *, ticks: int, step: float = 10.0, seed: int = 1, faults=()):
    model = SiteModel(spec, seed=seed)
    return [model.step(start + timedelta(seconds=step * (k + 1)), step, faults=faults) for k in range(ticks)]


def test_the_same_seed_gives_the_same_telemetry_and_another_seed_does_not(demo_sites, t0):
    spec = simulated_site_specs(slugs=["pool"])[0]
    lines = lambda ticks: [p.to_line() for tick in ticks for p in tick]  # noqa: E731
    first = lines(run(spec, t0, ticks=200))
    assert first == lines(run(spec, t0, ticks=200))
    assert first != lines(run(spec, t0, ticks=200, seed=2))


@pytest.mark.parametrize("faults", [(), *((kind,) for kind in FaultKind.values), tuple(FaultKind.values)])
def test_every_point_fits_the_schema_whatever_the_faults(demo_sites, t0, faults):
    for spec in simulated_site_specs():
        for tick in run(spec, t0, ticks=120, step=30.0, faults=faults):
            for point in tick:
                schema.validate(point.measurement, dict(point.tags), dict(point.fields))


def test_each_tick_reports_every_asset_of_the_demo_sites_once(demo_sites, t0):
    specs = {spec.slug: spec for spec in simulated_site_specs()}
    pool = run(specs["pool"], t0, ticks=1)[0]
    school = run(specs["school"], t0, ticks=1)[0]
    assert len(pool) == 23 and len(school) == 17
    assert {p.measurement for p in pool} == set(schema.MEASUREMENTS) - {"heat_pump"}
    assert {p.measurement for p in school} == set(schema.MEASUREMENTS) - {"sensor"}
    assert len({(p.measurement, tuple(sorted(p.tags.items()))) for p in pool}) == len(pool)


def test_a_removed_server_stops_reporting_and_its_power_leaves_the_rack(demo_sites, t0):
    spec = simulated_site_specs(slugs=["pool"])[0]
    normal = run(spec, t0, ticks=3)[-1]
    removed = run(spec, t0, ticks=3, faults=(FaultKind.SERVER_REMOVED,))[-1]
    nodes = lambda tick: {p.tags["asset"]: p.fields["power_kw"] for p in tick if p.measurement == "node"}  # noqa: E731
    gone = set(nodes(normal)) - set(nodes(removed))
    assert len(gone) == 1 and len(nodes(removed)) == len(nodes(normal)) - 1
    it = lambda tick: next(p.fields["it_power_kw"] for p in tick if p.measurement == "facility")  # noqa: E731
    assert it(removed) < it(normal) - 0.8 * nodes(normal)[gone.pop()]


def test_the_heat_pump_puts_out_its_source_heat_plus_its_electricity(demo_sites, t0):
    spec = simulated_site_specs(slugs=["school"])[0]
    cops = []
    for tick in run(spec, t0, ticks=360, step=30.0):
        by = {p.measurement: p.fields for p in tick}
        hp, hx = by["heat_pump"], by["heat_exchanger"]
        assert hp["heat_kw"] == pytest.approx(hx["heat_kw"] + hp["power_kw"], abs=0.005)
        if hp["power_kw"] > 1.0:
            cops.append(hp["cop"])
            assert hp["cop"] == pytest.approx(hp["heat_kw"] / hp["power_kw"], rel=0.01)
    assert cops and all(3.0 <= cop <= 4.5 for cop in cops)


def test_loops_carry_the_heat_their_flow_and_temperatures_say(demo_sites, t0):
    """The primary loop carries the IT heat and the secondary the exchanger's:
    q = flow x 998/3600 x 4.18 x delta-T (the primary over time, as its racks hold heat)."""
    spec = simulated_site_specs(slugs=["pool"])[0]
    carried, it = [], []
    for tick in run(spec, t0, ticks=240, step=30.0)[10:]:
        loops = {p.tags["loop"]: p.fields for p in tick if p.measurement == "loop"}
        by = {p.measurement: p.fields for p in tick if p.measurement != "loop"}
        primary, secondary = loops["primary"], loops["secondary"]
        carried.append(primary["flow_m3h"] * KW_PER_M3H_K * primary["delta_t_k"])
        it.append(by["facility"]["it_power_kw"])
        passed = secondary["flow_m3h"] * KW_PER_M3H_K * secondary["delta_t_k"]
        assert passed == pytest.approx(by["heat_exchanger"]["heat_kw"], rel=0.01, abs=0.05)
    assert sum(carried) == pytest.approx(sum(it), rel=0.05)  # about 1 kW of heat per kW of IT


def test_facility_power_is_it_plus_plant_plus_controls(demo_sites, t0):
    spec = simulated_site_specs(slugs=["school"])[0]
    for tick in run(spec, t0, ticks=60, step=30.0):
        by = {p.measurement: p.fields for p in tick if p.measurement != "loop"}
        it = by["facility"]["it_power_kw"]
        plant = by["pump"]["power_kw"] + by["heat_pump"]["power_kw"] + by["dry_cooler"]["power_kw"]
        assert by["facility"]["total_power_kw"] == pytest.approx(it + plant + 0.1 + 0.02 * it, abs=0.01)
        assert it == pytest.approx(
            sum(p.fields["power_kw"] for p in tick if p.measurement == "rack"), abs=0.01
        )


def test_a_school_wants_heat_in_occupied_hours_and_more_in_winter():
    wednesday, saturday, august = date(2026, 1, 14), date(2026, 1, 17), date(2026, 8, 12)
    assert is_school_occupied(wednesday, wednesday.weekday(), 9.0)
    assert not is_school_occupied(wednesday, wednesday.weekday(), 18.0)
    assert not is_school_occupied(saturday, saturday.weekday(), 9.0)
    assert not is_school_occupied(august, august.weekday(), 9.0)  # summer holidays

    def demand(day, hour, outdoor):
        return consumer_demand("school", 25.0, day, day.weekday(), hour, outdoor)[0]

    assert demand(wednesday, 10.0, 2.0) > demand(wednesday, 10.0, 15.0) > demand(wednesday, 20.0, 15.0)
    assert demand(wednesday, 10.0, 2.0) > 2 * demand(saturday, 10.0, 2.0)
    pool = [consumer_demand("pool", 60.0, wednesday, 2, hour, 8.0)[0] for hour in (3.0, 12.0)]
    assert min(pool) > 0.6 * 60.0


def test_tank_and_heat_pump_curves_are_physical():
    tops, bottoms = zip(*(tank_temperatures(soc / 20, 30.0, 47.5) for soc in range(21)), strict=True)
    assert list(tops) == sorted(tops) and list(bottoms) == sorted(bottoms)
    assert tops[0] == bottoms[0] == 30.0 and tops[-1] == 47.5 and bottoms[-1] == 44.5
    assert heat_pump_cop(65.0, 38.0) > heat_pump_cop(65.0, 25.0)


def test_a_site_with_only_a_rack_is_simulated_with_plant_sized_from_its_it(db, t0, caplog):
    site = make_site(slug="library", kind="library")
    make_asset(site, kind=AssetKind.RACK, slug="rack-1", rated_power_kw=12.0)
    make_site(slug="empty")  # nothing to heat with: left out, not fatal

    specs = simulated_site_specs()
    assert [spec.slug for spec in specs] == ["library"]
    assert "empty" in caplog.text
    with pytest.raises(SimulatorError, match="'empty' has no active rack"):
        simulated_site_specs(slugs=["empty"])
    ticks = run(specs[0], t0, ticks=60, step=30.0)
    for point in ticks[-1]:
        schema.validate(point.measurement, dict(point.tags), dict(point.fields))
    # plant it lacks is modelled (the loop flows, heat is carried) but not reported
    assert {p.measurement for p in ticks[-1]} == {"rack", "loop", "consumer", "weather", "facility"}
    primary = next(p.fields for p in ticks[-1] if p.tags.get("loop") == "primary")
    assert primary["flow_m3h"] > 0 and 2.0 < primary["delta_t_k"] < 15.0
