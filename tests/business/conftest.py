from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from apps.accounts.models import SiteAccess
from apps.business.services import Capex, business_case_save
from apps.reports.selectors import site_period_figures
from tests.reports.conftest import previous_month_period, series

EXPECTED = {
    "opex_per_year": Decimal("12000"),
    "heat_sales_kwh_per_year": 300_000.0,
    "heat_revenue_per_year": Decimal("13740"),
    "avoided_fuel_kwh_per_year": 340_000.0,
    "avoided_cost_per_year": Decimal("22100"),
    "avoided_co2e_kg_per_year": 62_000.0,
    "compute_revenue_per_year": Decimal("60000"),
    "it_energy_kwh_per_year": 400_000.0,
    "uptime": 0.99,
}


@pytest.fixture
def people(demo_sites, django_user_model):
    out = {}
    for role in ("estates", "devops", "manager", "admin"):
        out[role] = django_user_model.objects.create_user(f"{role}-person", first_name=role.title())
        SiteAccess.objects.create(user=out[role], site=demo_sites["pool"], role=role)
    return out


@pytest.fixture
def last_month(influx, demo_sites, now):
    """Last month at the pool, measured at 10-minute resolution: 40 kW of IT load and a heat
    meter delivering 30 kW all month; and the reports' own figures for it."""
    pool = demo_sites["pool"]
    period = previous_month_period(pool.timezone, now)
    start, end, step = period.start_utc, period.end_utc, timedelta(minutes=10)
    series(
        influx,
        "facility",
        {"site": "pool"},
        start,
        end,
        step,
        lambda t: {"it_power_kw": 40.0, "total_power_kw": 46.0},
    )
    series(
        influx,
        "heat_meter",
        {"site": "pool", "asset": "meter-1"},
        start,
        end,
        step,
        lambda t: {
            "power_kw": 30.0,
            "energy_kwh": 30.0 * (t - start) / timedelta(hours=1),
            "supply_temp_c": 50.0,
        },
    )
    figures = site_period_figures(sites=[pool], periods=[period])[0]
    return pool, period, figures


@pytest.fixture
def case(last_month, people, now):
    pool, period, _figures = last_month
    return business_case_save(
        site=pool,
        start=period.start,
        capex=[
            Capex("Heat exchanger and pipework", Decimal("80000"), period.start),
            Capex("Racks", Decimal("150000"), period.start),
        ],
        scenarios={
            "conservative": {**EXPECTED, "compute_revenue_per_year": Decimal("40000")},
            "expected": EXPECTED,
            "aggressive": {**EXPECTED, "compute_revenue_per_year": Decimal("80000")},
        },
        user=people["manager"],
        reason="board approved",
        now=now,
    )
