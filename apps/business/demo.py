"""The demo's business cases: one per demo site, starting the month the backfilled week
began, so the page shows measured months at once. Each scenario is sized from the site's
contract (capacity, tariff, fuel and emission factors) and an IT load. Made once: a site
with a business case keeps it."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from django.utils import timezone

from apps.reports.periods import local_today

from .models import BusinessCase
from .plan import add_months
from .services import Capex, business_case_save

HOURS = 8760
# per demo site: IT load (kW), capex items (months after the start, what, amount)
DEMO = {
    "pool": (
        48.0,
        [
            (-2, "Heat exchanger, buffer tank and pipework", 86_000),
            (-1, "Racks, liquid-cooled nodes", 210_000),
            (0, "Commissioning", 9_500),
        ],
    ),
    "school": (
        18.0,
        [
            (-2, "Heat pump, tank and pipework", 41_000),
            (-1, "Rack and nodes", 82_000),
            (0, "Commissioning", 5_000),
        ],
    ),
}
# scenario -> (share of IT energy reused as heat sold, compute revenue per IT kWh, uptime, opex share of capex)
SCENARIOS = {
    "conservative": (0.55, Decimal("0.11"), 0.97, Decimal("0.06")),
    "expected": (0.75, Decimal("0.14"), 0.99, Decimal("0.05")),
    "aggressive": (0.88, Decimal("0.17"), 0.995, Decimal("0.045")),
}


def _money(value) -> Decimal:
    return Decimal(value).quantize(Decimal("1"))


def demo_business_cases(sites, *, user=None, backfill_days: float = 7, now: datetime | None = None) -> str:
    now = now or timezone.now()
    made = []
    for site in sites:
        if site.slug not in DEMO or BusinessCase.objects.filter(site=site).exists():
            continue
        it_kw, capex = DEMO[site.slug]
        start = local_today(site.timezone, now - timedelta(days=backfill_days)).replace(day=1)
        total_capex = sum(amount for _m, _what, amount in capex)
        it_kwh = it_kw * HOURS
        scenarios = {}
        for kind, (reuse, compute_per_kwh, uptime, opex_share) in SCENARIOS.items():
            heat = it_kwh * reuse
            fuel = heat / site.displaced_efficiency if site.displaced_efficiency else 0.0
            scenarios[kind] = {
                "opex_per_year": _money(Decimal(total_capex) * opex_share),
                "heat_sales_kwh_per_year": round(heat),
                "heat_revenue_per_year": _money(
                    site.capacity_charge_per_kw_month * Decimal(site.contracted_capacity_kw) * 12
                    + site.energy_charge_per_kwh * Decimal(heat)
                ),
                "avoided_fuel_kwh_per_year": round(fuel),
                "avoided_cost_per_year": _money(site.fuel_price_per_kwh * Decimal(fuel)),
                "avoided_co2e_kg_per_year": round(fuel * site.emission_factor_kg_per_kwh),
                "compute_revenue_per_year": _money(compute_per_kwh * Decimal(it_kwh * uptime)),
                "it_energy_kwh_per_year": round(it_kwh * uptime),
                "uptime": uptime,
            }
        business_case_save(
            site=site,
            start=start,
            capex=[Capex(what, Decimal(amount), add_months(start, m)) for m, what, amount in capex],
            scenarios=scenarios,
            notes="Demo plan: heat sold under the two-part tariff, compute sold per IT kWh.",
            user=user,
            reason="demo seed",
            now=now,
        )
        made.append(site.slug)
    return f"business cases for {', '.join(made)}" if made else "business cases kept"
