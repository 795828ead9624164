"""A month you could settle a bill on: the most recent complete October in
London (745 hours, the clocks go back), 10-second telemetry with everything that goes wrong
in a real month, written to the real InfluxDB, and every figure checked against an
independent computation from the raw points written (plain Python, not the project's code):

- IT power lost for 10.5 hours while the facility total is still metered;
- the heat meter's register reset mid-interval (it restarts from zero);
- a 6.5-hour communications gap of the heat meter (its register keeps counting);
- the month starting inside a gap of the register (last reading before it on 30 September);
- 0.2 % of every series' points lost at random;
- compute idle for 3 hours, supply out of band daily and for two hours once.

The rules the expected values follow are docs/reports.md's: energy is integrated between
consecutive points no further apart than six sample intervals (60 s here); a register's
increase between consecutive readings is spread over the time between them, a drop counting
as a restart from zero; ratios are formed over the time all their inputs are known;
samples are counted as received, the time they cover from the same gap rule.
"""

from __future__ import annotations

import math
import random
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from apps.reports.compute import Job, collect
from apps.reports.figures import figures
from apps.reports.periods import Period
from apps.sites.models import Site
from apps.telemetry.influx.client import InfluxClient
from apps.telemetry.influx.escaping import quote_ident
from apps.telemetry.influx.points import Point

from .conftest import previous_month_period, recent_month

STEP = 10  # s, every series
MAX_GAP = 6 * STEP  # s: consecutive points further apart than this are a gap
LOSS = 0.002  # share of points lost at random, per series
REL = 1e-3  # every figure within 0.1 %
COV = 1e-3  # every coverage within 0.1 percentage points
TZ = "Europe/London"


def bill_site(slug: str = "bill") -> Site:
    """Round contract terms (not saved: the figures need no database)."""
    return Site(
        name="Settlement Baths",
        slug=slug,
        timezone=TZ,
        supply_temp_min_c=45.0,
        supply_temp_max_c=65.0,
        min_monthly_heat_kwh=5000,
        contracted_capacity_kw=50,
        capacity_charge_per_kw_month=Decimal("4.00"),
        energy_charge_per_kwh=Decimal("0.0500"),
        currency="GBP",
        displaced_efficiency=0.9,
        emission_factor_kg_per_kwh=0.2,
        fuel_price_per_kwh=Decimal("0.0700"),
    )


# --- the raw points ------------------------------------------------------------------------


@dataclass
class Raw:
    """One series as written: epoch seconds and, per field, the values."""

    t: list[int]
    v: dict[str, list]


class Month:
    """The test month's timeline, in epoch seconds."""

    def __init__(self, period: Period):
        self.period = period
        self.zone = ZoneInfo(TZ)
        self.start = int(period.start_utc.timestamp())
        self.end = int(period.end_utc.timestamp())
        self.slots = (self.end - self.start) // STEP

    def at(self, day: int, hour: int, minute: int = 0, second: int = 0) -> int:
        """Epoch seconds of a local time on the month's ``day`` (1-based; 0 is the last day
        of the month before)."""
        first = self.period.start
        naive = datetime(first.year, first.month, 1, hour, minute, second) + timedelta(days=day - 1)
        return int(naive.replace(tzinfo=self.zone).timestamp())

    def local_seconds_of_day(self, ts: int) -> int:
        local = datetime.fromtimestamp(ts, UTC).astimezone(self.zone)
        return local.hour * 3600 + local.minute * 60 + local.second


def build(m: Month) -> dict[str, Raw]:
    """The month's series, with the faults listed in the module's docstring."""
    rng = random.Random(11)
    lost = lambda: rng.random() < LOSS  # noqa: E731 - one draw per point and series
    reset = m.at(19, 14, 37, 23)  # the register restarts from zero, between two samples
    it_gap = (m.at(12, 21, 30), m.at(13, 8))
    idle = (m.at(20, 1), m.at(20, 4))
    meter_gaps = [(m.at(8, 10), m.at(8, 16, 30)), (m.at(0, 20, 15), m.at(1, 2, 20))]
    low_supply = (m.at(15, 12), m.at(15, 14))
    out = {name: Raw([], {}) for name in ("facility", "meter", "demand", "pump")}
    energy, previous_heat, restarted = 48_210.5, None, False
    sod_base = None
    for ts in range(m.start - 8 * 3600, m.end + 3 * 3600, STEP):
        if sod_base is None or ts % 3600 == 0:
            sod_base = (ts, m.local_seconds_of_day(ts))
        sod = (sod_base[1] + ts - sod_base[0]) % 86400
        it = 40.0 + 8.0 * math.sin(2 * math.pi * (ts % 86400) / 86400) + rng.gauss(0, 1.5)
        total = 1.18 * it + 4.0 + rng.gauss(0, 0.3)
        if idle[0] <= ts < idle[1]:
            it = 0.6
        heat = 0.4 if idle[0] <= ts < idle[1] else 0.82 * it
        if previous_heat is not None:  # the register integrates the heat flow
            gained = (heat + previous_heat) / 2 * STEP / 3600
            if not restarted and ts > reset:
                restarted = True
                energy = gained * (ts - reset) / STEP  # counted since the restart only
            else:
                energy += gained
        previous_heat = heat
        supply = 70.0 if 7 * 3600 <= sod < 7 * 3600 + 1200 else 55.0
        if low_supply[0] <= ts < low_supply[1]:
            supply = 40.0
        if not lost() and ts >= m.start - 3 * 3600:
            fields = {"total_power_kw": total}
            if not it_gap[0] <= ts < it_gap[1]:  # IT lost, the facility total still metered
                fields["it_power_kw"] = it
            add(out["facility"], ts, fields)
        if not lost() and not any(a <= ts < b for a, b in meter_gaps):
            add(out["meter"], ts, {"power_kw": heat, "energy_kwh": energy, "supply_temp_c": supply})
        if not lost() and ts >= m.start - 3 * 3600:
            add(out["demand"], ts, {"demand_kw": 20.0 if 6 * 3600 <= sod < 22 * 3600 else 0.2})
        if not lost() and ts >= m.start - 3 * 3600:
            add(out["pump"], ts, {"running": not 2 * 3600 <= sod < 3 * 3600 + 1800})
    return out


def add(raw: Raw, ts: int, fields: dict) -> None:
    raw.t.append(ts)
    for name, value in fields.items():
        raw.v.setdefault(name, {})[ts] = value


def field(raw: Raw, name: str) -> tuple[list[int], list]:
    """The points of one field: times and values."""
    values = raw.v[name]
    times = [t for t in raw.t if t in values]
    return times, [values[t] for t in times]


def write(client: InfluxClient, site: str, raw: dict[str, Raw]) -> None:
    specs = [
        ("facility", {"site": site}, raw["facility"]),
        ("heat_meter", {"site": site, "asset": "meter-1"}, raw["meter"]),
        ("consumer", {"site": site}, raw["demand"]),
        ("pump", {"site": site, "asset": "pump-primary"}, raw["pump"]),
    ]
    lines = []
    for measurement, tags, series in specs:
        for ts in series.t:
            fields = {name: values[ts] for name, values in series.v.items() if ts in values}
            lines.append(Point(measurement, tags, fields, ts * 1_000_000_000).to_line())
    for i in range(0, len(lines), 50_000):
        client.write_lines("\n".join(lines[i : i + 50_000]))


# --- the expected figures, from the raw points alone -------------------------------------------


class Slots:
    """The period's 10-second slots, and what intervals between consecutive points put in them."""

    def __init__(self, m: Month):
        self.m = m
        self.value = [0.0] * m.slots
        self.covered = bytearray(m.slots)

    def lay(self, t0: int, t1: int, amount: float, spread: bool) -> None:
        """The interval (t0, t1] covers its slots and adds ``amount`` to them (spread evenly
        over them, or to each)."""
        n = (t1 - t0) // STEP
        share = amount / n if spread else amount
        first = (t0 - self.m.start) // STEP
        for i in range(max(first, 0), min(first + n, self.m.slots)):
            self.value[i] += share
            self.covered[i] = 1

    def total(self, where=None) -> float:
        return sum(v for v, w in zip(self.value, where or self.covered, strict=True) if w)

    def share(self) -> float:
        return sum(self.covered) / self.m.slots


def power_slots(m: Month, raw: Raw, name: str) -> Slots:
    """kWh per slot: trapezoids between points no further apart than MAX_GAP."""
    out = Slots(m)
    t, p = field(raw, name)
    for i in range(len(t) - 1):
        if t[i + 1] - t[i] <= MAX_GAP:
            out.lay(t[i], t[i + 1], (p[i] + p[i + 1]) / 2 * (t[i + 1] - t[i]) / 3600, spread=True)
    return out


def held_slots(m: Month, raw: Raw, name: str) -> Slots:
    """Each covered slot's sample-and-hold value (the earlier point's)."""
    out = Slots(m)
    t, v = field(raw, name)
    for i in range(len(t) - 1):
        if t[i + 1] - t[i] <= MAX_GAP:
            out.lay(t[i], t[i + 1], float(v[i]), spread=False)
    return out


def register_slots(m: Month, raw: Raw) -> Slots:
    """kWh per slot from the register: the increase between consecutive readings, however far
    apart (the register counts through a gap), spread over the time between them; a drop is a
    restart from zero, so the increase is the new reading itself."""
    out = Slots(m)
    t, e = field(raw, "energy_kwh")
    for i in range(len(t) - 1):
        d = e[i + 1] - e[i]
        out.lay(t[i], t[i + 1], d if d >= 0 else e[i + 1], spread=True)
    return out


def expected(m: Month, raw: dict[str, Raw]) -> dict:
    it = power_slots(m, raw["facility"], "it_power_kw")
    tot = power_slots(m, raw["facility"], "total_power_kw")
    heat_p = power_slots(m, raw["meter"], "power_kw")
    heat = register_slots(m, raw["meter"])
    it_held = held_slots(m, raw["facility"], "it_power_kw")
    demand = held_slots(m, raw["demand"], "demand_kw")
    supply = held_slots(m, raw["meter"], "supply_temp_c")
    running = held_slots(m, raw["pump"], "running")

    def ratio(num, den, *inputs):
        common = [all(x) for x in zip(*(s.covered for s in inputs), strict=True)]
        top = sum(s.total(common) * sign for s, sign in num)
        return top / den.total(common), sum(common) / m.slots

    hrr, hrr_c = ratio([(heat, 1)], it, heat, it)
    erf, erf_c = ratio([(heat, 1)], tot, heat, tot)
    pue, pue_c = ratio([(tot, 1)], it, tot, it)
    ere, ere_c = ratio([(tot, 1), (heat, -1)], it, tot, it, heat)
    called = in_band = joint = 0
    for known_d, d, known_s, s in zip(
        demand.covered, demand.value, supply.covered, supply.value, strict=True
    ):
        if known_d and known_s:
            joint += 1
            if d > 0.5:
                called += 1
                in_band += 45.0 <= s <= 65.0
    up = sum(1 for c, v in zip(it_held.covered, it_held.value, strict=True) if c and v > 1.0)
    heat_kwh = heat.total()
    fuel = heat_kwh / 0.9
    return {
        "it_energy_kwh": it.total(),
        "it_energy_coverage": it.share(),
        "total_energy_kwh": tot.total(),
        "total_energy_coverage": tot.share(),
        "heat_delivered_kwh": heat_kwh,
        "heat_coverage": heat.share(),
        "heat_power_integral_kwh": heat_p.total(),
        "heat_power_coverage": heat_p.share(),
        "heat_recovery_ratio": hrr,
        "heat_recovery_coverage": hrr_c,
        "erf": erf,
        "erf_coverage": erf_c,
        "pue": pue,
        "pue_coverage": pue_c,
        "ere": ere,
        "ere_coverage": ere_c,
        "ratios_coverage": ere_c,
        "avoided_fuel_kwh": fuel,
        "avoided_cost": fuel * 0.07,
        "avoided_emissions_kg": fuel * 0.2,
        "revenue_energy": 0.05 * heat_kwh,
        "revenue_total": 4.0 * 50 + 0.05 * heat_kwh,
        "sla_compliance": in_band / called,
        "sla_hours_called": called * STEP / 3600,
        "sla_coverage": joint / m.slots,
        "availability": up / sum(it_held.covered),
        "availability_coverage": it.share(),
        "pump_runtime_h": sum(1 for c, v in zip(running.covered, running.value, strict=True) if c and v)
        * STEP
        / 3600,
    }


@pytest.fixture(scope="module")
def month(services):
    """The month written once for the module's tests, its figures computed by heatops and
    expected from the raw points."""
    now = datetime.now(UTC)
    period = recent_month(TZ, 10, now)
    assert period.hours == 745
    m = Month(period)
    raw = build(m)
    client = InfluxClient(
        url=services["influx_url"],
        database=f"test_month_{uuid.uuid4().hex[:10]}",
        retention_policy="heatops",
        timeout=120,
    )
    client.ensure_database(retention="400d")
    client.query(  # as the influx fixture's: the month is written once and read, never aged out
        f"ALTER RETENTION POLICY {quote_ident('heatops')} ON {quote_ident(client.database)} DURATION INF",
        method="POST",
    )
    try:
        write(client, "bill", raw)
        job = Job(site=bill_site(), period=period)
        collect([job], client=client)
        yield figures(job), expected(m, raw), m
    finally:
        client.drop_database()
        client.close()


def off_by(fig: dict, want: dict, keys) -> list[str]:
    """The figures outside tolerance, as 'key: got X, expected Y' lines."""
    wrong = []
    for key in keys:
        got, exp = fig.get(key), want[key]
        if key.endswith("_coverage"):
            ok = got is not None and abs(got - exp) <= COV
        else:
            ok = got is not None and abs(got - exp) <= REL * abs(exp)
        if not ok:
            wrong.append(f"{key}: got {got!r}, expected {exp:.6f}")
    return wrong


def assert_agree(fig: dict, want: dict, *keys: str) -> None:
    wrong = off_by(fig, want, keys or want)
    assert not wrong, "figures off:\n  " + "\n  ".join(wrong)


def test_every_figure_of_the_month_agrees_with_the_raw_points(month):
    fig, want, _m = month
    assert fig["hours"] == 745
    assert_agree(fig, want)
    assert fig["heat_source"] == "register"
    assert fig["meter_resets"] == 1
    assert fig["meter_check_flag"] is False and abs(fig["meter_check_diff"]) < 0.002
    assert fig["min_heat_met"] is True


def test_ratios_are_formed_over_the_time_all_their_inputs_are_known(month):
    """During the IT gap the facility total and the heat are still metered; a
    ratio must leave them out there, and say over how much of the month it is formed."""
    fig, want, _m = month
    assert want["pue_coverage"] < want["total_energy_coverage"] - 0.01  # the gap is there
    assert_agree(
        fig,
        want,
        "pue",
        "ere",
        "heat_recovery_ratio",
        "erf",
        "pue_coverage",
        "ere_coverage",
        "heat_recovery_coverage",
        "erf_coverage",
    )


def test_pump_runtime_and_sla_count_only_the_samples_received(month):
    """A lost sample is not 'off'."""
    fig, want, _m = month
    assert_agree(fig, want, "pump_runtime_h", "sla_hours_called", "sla_compliance", "availability")


def test_the_register_is_bridged_across_gaps_resets_and_the_month_start(month):
    """A reset is a restart from zero; the register bridges its own gaps,
    including the one the month starts in (from the reading on the last day before)."""
    fig, want, _m = month
    assert fig["meter_resets"] == 1
    assert_agree(fig, want, "heat_delivered_kwh", "revenue_energy", "avoided_fuel_kwh")


def test_heat_coverage_is_the_share_of_the_month_bracketed_by_readings(month):
    """The register's gaps are bracketed by readings, so its heat is known there."""
    fig, want, _m = month
    assert want["heat_coverage"] == pytest.approx(1.0)
    assert_agree(fig, want, "heat_coverage", "heat_power_coverage")


def test_energy_is_integrated_between_points_no_further_apart_than_the_maximum_gap(month):
    """Lost points cost no energy; only a gap does."""
    fig, want, _m = month
    assert_agree(
        fig,
        want,
        "it_energy_kwh",
        "it_energy_coverage",
        "total_energy_kwh",
        "total_energy_coverage",
        "heat_power_integral_kwh",
    )


# --- the same rules, each where today's figures would be off by far more than 0.1 % ---------


def _day(now: datetime, day: int = 2) -> Period:
    month = previous_month_period(TZ, now)
    first = month.start + timedelta(days=day - 1)
    return Period(first, first + timedelta(days=1), TZ)


def test_a_15_minute_meter_reset_mid_interval_is_a_restart_from_zero(influx, contract_site, now):
    """A 15-minute meter whose register restarts from zero at 10:07: what the new register
    counted from 10:07 to 10:15 counts, and so does the first interval of every hour."""
    day = _day(now)
    start = int(day.start_utc.timestamp())
    reset = start + 10 * 3600 + 7 * 60
    lines, readings = [], []
    for ts in range(start - 2 * 3600, start + 26 * 3600 + 1, 900):
        e = 12.0 * (ts - (start - 2 * 3600)) / 3600 + 900.0 if ts < reset else 12.0 * (ts - reset) / 3600
        readings.append((ts, e))
        fields = {"power_kw": 12.0, "energy_kwh": e}
        lines.append(
            Point("heat_meter", {"site": contract_site.slug, "asset": "m"}, fields, ts * 10**9).to_line()
        )
    influx.write_lines("\n".join(lines))
    truth = 0.0
    for (t0, a), (t1, b) in zip(readings, readings[1:], strict=False):
        increase = b - a if b >= a else b
        truth += increase * max(0, min(t1, start + 86400) - max(t0, start)) / (t1 - t0)
    assert truth == pytest.approx(12 * 24 - 12 * 7 / 60)  # only the old register's last 7 minutes
    [fig] = _figures(contract_site, day)
    assert fig["meter_resets"] == 1
    assert fig["heat_delivered_kwh"] == pytest.approx(truth, rel=REL)
    assert fig["heat_coverage"] == pytest.approx(1.0, abs=COV)


def test_one_lost_point_an_hour_costs_no_energy_and_no_coverage(influx, contract_site, now):
    """Four of an hour's 360 points lost (98.9 %) is not an hour 1.1 % short: every other
    hour of the day loses four points, the others none."""
    day = _day(now, day=3)
    start = int(day.start_utc.timestamp())
    lines, kept = [], []
    for ts in range(start - 600, start + 86400 + 600, STEP):
        if (ts - start) // 3600 % 2 and (ts - start) % 3600 in (600, 1200, 1800, 2400):
            continue  # four points in every other hour, none next to another
        kw = 30.0 + 10.0 * ((ts // 60) % 2)
        kept.append((ts, kw))
        lines.append(
            Point(
                "facility",
                {"site": contract_site.slug},
                {"it_power_kw": kw, "total_power_kw": kw + 5},
                ts * 10**9,
            ).to_line()
        )
    influx.write_lines("\n".join(lines))
    truth = sum(
        (p0 + p1) / 2 * (t1 - t0) / 3600
        for (t0, p0), (t1, p1) in zip(kept, kept[1:], strict=False)
        if t1 > start and t0 < start + 86400
    )
    [fig] = _figures(contract_site, day)
    assert fig["it_energy_kwh"] == pytest.approx(truth, rel=REL)
    assert fig["it_energy_coverage"] == pytest.approx(1.0, abs=COV)
    assert fig["pue"] == pytest.approx((truth + 5 * 24) / truth, rel=REL)


def _figures(site: Site, period: Period) -> list[dict]:
    from apps.reports.selectors import site_period_figures

    return site_period_figures(sites=[site], periods=[period])
