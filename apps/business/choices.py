from django.db import models


class ScenarioKind(models.TextChoices):
    CONSERVATIVE = "conservative", "Conservative"
    EXPECTED = "expected", "Expected"
    AGGRESSIVE = "aggressive", "Aggressive"


# the plan's yearly figures of a scenario: field -> (label, unit)
SCENARIO_FIELDS = {
    "opex_per_year": ("Opex", "money"),
    "heat_sales_kwh_per_year": ("Heat sold", "kWh"),
    "heat_revenue_per_year": ("Heat revenue", "money"),
    "avoided_fuel_kwh_per_year": ("Avoided fuel", "kWh"),
    "avoided_cost_per_year": ("Avoided fuel cost", "money"),
    "avoided_co2e_kg_per_year": ("Avoided CO₂e", "kg"),
    "compute_revenue_per_year": ("Compute revenue", "money"),
    "it_energy_kwh_per_year": ("IT energy", "kWh"),
    "uptime": ("Compute uptime", "share"),
}
