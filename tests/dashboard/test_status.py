"""The verdicts estates staff read: each from real-looking readings, no InfluxDB needed."""

from datetime import UTC, datetime, timedelta

import pytest

from apps.dashboard.choices import Health, Level
from apps.dashboard.config import SiteConfig
from apps.dashboard.status import site_status
from apps.telemetry.influx.results import Reading
from apps.telemetry.live import SiteReadings, series_key

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
MS = int(NOW.timestamp() * 1000)
CFG = SiteConfig(
    pk=1,
    slug="pool",
    name="Pool",
    kind_label="Public pool",
    consumer_description="",
    supply_min_c=40,
    supply_max_c=55,
    rated_it_kw=80,
    pump_min_flow=1.5,
    max_supply_c=60,
    max_inlet_c=45,
    tank_volume_l=6000,
    dump_kw=90,
)


def readings(age_s=2, **overrides) -> SiteReadings:
    t = MS - age_s * 1000
    base = {
        ("facility", ()): {"it_power_kw": 60.0, "total_power_kw": 64.0},
        ("heat_meter", (("asset", "meter-1"),)): {"power_kw": 56.0, "energy_kwh": 1000.0},
        ("loop", (("loop", "primary"),)): {
            "supply_temp_c": 50.0,
            "return_temp_c": 40.2,
            "delta_t_k": 9.8,
            "flow_m3h": 5.2,
        },
        ("pump", (("asset", "pump-primary"),)): {"speed_pct": 60.0, "running": True},
        ("tank", (("asset", "tank-1"),)): {"soc_pct": 62.0},
        ("consumer", ()): {"demand_kw": 55.0, "delivered_kw": 54.0, "online": True},
        ("dry_cooler", (("asset", "drycooler-1"),)): {"heat_kw": 0.0, "active": False},
    }
    for key, fields in overrides.items():
        match = next(k for k in base if k[0] == key)
        base[match] = {**base[match], **fields}
    r = SiteReadings("pool")
    for (m, tags), fields in base.items():
        tagd = dict(tags) | {"site": "pool"}
        r.series[series_key(m, tagd)] = Reading(m, tagd, t, fields)
    return r


def status(r):
    return site_status(CFG, r, now=NOW, stale_after_s=30)


def q(s, key):
    return next(x for x in s.questions if x.key == key)


def test_a_healthy_site_answers_all_four_questions_in_plain_words():
    s = status(readings())
    assert s.health == Health.OK
    assert [x.level for x in s.questions] == [Level.OK] * 4
    assert q(s, "power").verdict == "Drawing 60.0 kW of the racks' 80 kW rating (75%)."
    assert q(s, "heat").verdict == "Delivering 56.0 kW to the building: 93% of the IT load recovered."
    assert q(s, "loop").verdict == "Loop stable: ΔT 9.8 K, flow 5.2 m³/h, supply 50.0 °C."
    assert q(s, "consumer").verdict.startswith(
        "Receiving 54.0 kW of the 55.0 kW it asks for (98%). Tank 62 % full."
    )
    assert s.consumer == "54.0 / 55.0 kW"


def test_a_pump_failure_reads_as_an_alarm_with_the_reason():
    s = status(
        readings(
            loop={"flow_m3h": 0.0}, pump={"running": False, "speed_pct": 0.0}, heat_meter={"power_kw": 0.5}
        )
    )
    assert s.health == Health.ALARM
    assert q(s, "loop").level == Level.BAD and "the pump has stopped" in q(s, "loop").verdict
    assert q(s, "heat").level == Level.BAD and "not getting out" in q(s, "heat").verdict


def test_a_consumer_offline_says_where_the_heat_goes():
    s = status(readings(consumer={"online": False, "delivered_kw": 0.0}, dry_cooler={"active": True}))
    assert q(s, "consumer").number == "offline"
    assert "boiler" in q(s, "consumer").verdict and "dumping surplus heat" in q(s, "consumer").verdict
    assert s.consumer == "offline"


def test_old_readings_are_stale_never_shown_as_live():
    s = status(readings(age_s=120))
    assert s.health == Health.STALE and s.stale
    assert all(x.level == Level.UNKNOWN for x in s.questions)
    assert "old" in q(s, "power").verdict
    empty = status(SiteReadings("pool"))
    assert empty.health == Health.STALE and empty.health_reason == "no data"


@pytest.mark.parametrize(
    ("health", "rank"), [(Health.ALARM, 0), (Health.STALE, 1), (Health.DEGRADED, 2), (Health.OK, 3)]
)
def test_the_portfolio_puts_the_worst_first(health, rank):
    s = status(readings())
    s.health = health
    assert s.rank == rank


def test_the_chart_points_carry_each_series_time():
    s = status(readings())
    assert s.points["it_kw"] == [MS - 2000, 60.0]
    assert s.points["soc"] == [MS - 2000, 62.0]
    assert timedelta(milliseconds=MS - s.newest_ms) == timedelta(seconds=2)


def test_a_consumer_getting_all_the_servers_heat_is_supplied_even_below_its_demand():
    """The pool asks for 80 kW, the servers make 60 kW and all of it arrives: that is the
    design (the boiler covers the rest), not a fault."""
    s = status(readings(consumer={"demand_kw": 80.0, "delivered_kw": 58.0}))
    assert q(s, "consumer").level == Level.OK and s.health == Health.OK
    assert (
        "all the heat the servers give now; the building's own boiler covers the rest"
        in q(s, "consumer").verdict
    )
    short = status(readings(consumer={"demand_kw": 80.0, "delivered_kw": 35.0}))
    assert q(short, "consumer").level == Level.WARN
    assert "though the servers could give 60.0 kW" in q(short, "consumer").verdict


def test_more_heat_than_it_load_is_explained_by_the_heat_pump():
    r = readings(heat_meter={"power_kw": 78.6})
    r.series[series_key("heat_pump", {"asset": "hp-1"})] = Reading(
        "heat_pump", {"site": "pool", "asset": "hp-1"}, MS - 2000, {"power_kw": 18.0, "heat_kw": 78.6}
    )
    verdict = q(status(r), "heat").verdict
    assert "131% of the IT load" in verdict and "the heat pump adds its own electrical input" in verdict
