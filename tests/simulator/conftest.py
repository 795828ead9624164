from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from apps.demo.sites import seed_demo_sites
from apps.simulator.backfill import simulation_backfill
from apps.simulator.selectors import simulated_site_specs
from apps.telemetry.influx.escaping import duration, quote_ident
from apps.telemetry.influx.statements import where_clause


def wednesday_morning() -> datetime:
    """06:00 UTC on a Wednesday at least two days ago: a school day (outside holidays),
    and well inside InfluxDB's retention."""
    day = datetime.now(UTC).replace(hour=6, minute=0, second=0, microsecond=0) - timedelta(days=2)
    return day - timedelta(days=(day.weekday() - 2) % 7)


@pytest.fixture
def t0() -> datetime:
    return wednesday_morning()


@pytest.fixture
def demo_sites(db):
    """The pool and the school, with their assets, as the simulator sees them."""
    return {site.slug: site for site in seed_demo_sites()}


@pytest.fixture
def backfill(demo_sites, influx):
    """Run a backfill of ``minutes`` from ``start``; the specs are read from the rows."""

    def run(*, start: datetime, minutes: float, step: float = 10.0, sites=None, workers: int = 1):
        specs = simulated_site_specs(slugs=sites)
        return simulation_backfill(
            specs=specs, start=start, end=start + timedelta(minutes=minutes), step=step, workers=workers
        )

    return run


def rows(series) -> list[dict]:
    """Every row of a window() answer, in time order."""
    return sorted((row for s in series for row in s.rows()), key=lambda r: r["time"])


def ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def aggregate(influx, *, measurement, field, start, end, function, tags, every=None):
    """``function`` of one field over [start, end), per ``every`` bucket if given, computed
    inside InfluxDB; ``integral`` is per hour (kW gives kWh)."""
    unit = ", 1h" if function == "integral" else ""
    group = f" GROUP BY time({duration(every)})" if every else ""
    return influx.select(
        f"SELECT {function}({quote_ident(field)}{unit}) AS {quote_ident(field)} "
        f"FROM {quote_ident(measurement)}{where_clause(tags, start, end)}{group}"
    )
