"""Synthetic telemetry whose true figures are known by construction, written to the real
InfluxDB, and sites with round contract terms.

Test months are chosen relative to the clock when a fixture runs (never at import), so the
suite passes on any date: each is a complete month within the InfluxDB retention (400 days)
of now. The clock may be shifted (libfaketime) while InfluxDB keeps the real one, so the
reports must never rely on InfluxDB's now().
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from apps.reports.periods import Period, last_month, local_today, month_period
from apps.telemetry.influx.client import InfluxClient
from apps.telemetry.influx.points import Point
from tests.factories import make_site

RETENTION = timedelta(days=400)

Fields = Callable[[datetime], dict | None]


def series(
    client: InfluxClient,
    measurement: str,
    tags: dict,
    start: datetime,
    end: datetime,
    step: timedelta,
    fields: Fields,
) -> list[tuple[datetime, dict]]:
    """Write one point per ``step`` in [start, end) with ``fields(t)`` (None: no point);
    return what was written, for the test to compute the truth from."""
    written, lines, t = [], [], start
    while t < end:
        values = fields(t)
        if values:
            written.append((t, values))
            lines.append(Point(measurement, tags, values, t).to_line())
        t += step
    for i in range(0, len(lines), 20_000):
        client.write_lines("\n".join(lines[i : i + 20_000]))
    return written


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def recent_month(tz: str, month: int, now: datetime) -> Period:
    """The most recent month numbered ``month`` (1-12) in ``tz`` that is over at ``now``:
    at most 13 months back, so inside the retention."""
    today = local_today(tz, now)
    period = month_period(tz, today.year if today.month > month else today.year - 1, month)
    assert period.end_utc <= now and now - period.start_utc < RETENTION - timedelta(days=2)
    return period


def previous_month_period(tz: str, now: datetime) -> Period:
    """Last month in ``tz`` at ``now``."""
    return month_period(tz, *last_month(local_today(tz, now)))


@pytest.fixture
def contract_site(db):
    return make_site(
        name="Test Baths",
        slug="baths",
        timezone="Europe/London",
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


@pytest.fixture
def pool_october(influx, demo_sites, now):
    """The most recent complete October at the pool (Europe/London: 745 hours, the clocks
    go back), at 10-minute resolution, with a day missing; and the figures' truth by
    construction."""
    step = timedelta(minutes=10)
    pool = demo_sites["pool"]
    period = recent_month(pool.timezone, 10, now)
    start, end = period.start_utc, period.end_utc
    tags = {"site": "pool"}
    missing = (start + timedelta(days=9), start + timedelta(days=10))

    def facility(t):
        if missing[0] <= t < missing[1]:
            return None
        it = 40.0 if t.hour < 12 else 55.0
        return {"it_power_kw": it, "total_power_kw": it * 1.15}

    def meter(t):  # above the pool's 55 °C band 07:00-08:00 UTC
        hours = (t - start) / timedelta(hours=1)
        return {"power_kw": 35.0, "energy_kwh": 35.0 * hours, "supply_temp_c": 58.0 if t.hour == 7 else 48.0}

    written = series(influx, "facility", tags, start, end, step, facility)
    metered = series(influx, "heat_meter", {**tags, "asset": "meter-1"}, start, end, step, meter)
    series(influx, "consumer", tags, start, end, step, lambda t: {"demand_kw": 30.0})
    truth = {
        "it": sum(f["it_power_kw"] for _t, f in written) / 6,
        "heat": 35.0 * period.hours,
        "sla": sum(f["supply_temp_c"] <= 55 for _t, f in metered) / len(metered),
    }
    return pool, period, truth
