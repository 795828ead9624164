from __future__ import annotations

import zoneinfo
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from .choices import HeatSource, SiteKind

NON_NEGATIVE = [MinValueValidator(0)]
MONEY = {"max_digits": 10, "decimal_places": 4, "validators": [MinValueValidator(Decimal("0"))]}

# A boiler converts fuel to heat at best 1:1 (condensing boilers about 0.95 on the net
# calorific value); a heat pump's seasonal COP above 7 is not credible.
MAX_EFFICIENCY = {HeatSource.HEAT_PUMP: 7.0}
DEFAULT_MAX_EFFICIENCY = 1.1


def validate_timezone(value: str) -> None:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise ValidationError(
            f"'{value}' is not a known time zone; use an IANA name such as Europe/London"
        ) from exc


class Site(models.Model):
    """A micro data centre and the building whose heat consumer it serves."""

    name = models.CharField(max_length=120, unique=True)
    slug = models.SlugField(
        max_length=60,
        unique=True,
        help_text="Short name used in URLs and as the 'site' tag of every InfluxDB series.",
    )
    kind = models.CharField(max_length=20, choices=SiteKind.choices)
    address = models.TextField(blank=True)
    timezone = models.CharField(max_length=64, default="Europe/London", validators=[validate_timezone])
    is_active = models.BooleanField(default=True)

    consumer_description = models.TextField(
        "heat consumer",
        blank=True,
        help_text="What the heat warms, in words estates staff use (pool water, hot water, space heating preheat).",
    )

    # contract terms
    supply_temp_min_c = models.FloatField(
        "supply band, lowest (°C)",
        default=45.0,
        validators=[MinValueValidator(5), MaxValueValidator(110)],
        help_text="The contract's supply temperature band: delivery below this counts against the SLA.",
    )
    supply_temp_max_c = models.FloatField(
        "supply band, highest (°C)", default=65.0, validators=[MinValueValidator(5), MaxValueValidator(110)]
    )
    min_monthly_heat_kwh = models.FloatField(
        "minimum heat per month (kWh)", default=0, validators=NON_NEGATIVE
    )
    contracted_capacity_kw = models.FloatField(
        "contracted capacity (kW)",
        default=0,
        validators=NON_NEGATIVE,
        help_text="The heat capacity the fixed charge is paid on.",
    )
    allowed_maintenance_hours_per_month = models.FloatField(
        "allowed maintenance per month (hours)",
        default=0,
        validators=[MinValueValidator(0), MaxValueValidator(744)],
        help_text="Planned maintenance the contract allows each month: the report states SLA figures "
        "with and without up to this much maintenance time.",
    )
    capacity_charge_per_kw_month = models.DecimalField("capacity charge per kW per month", default=0, **MONEY)
    energy_charge_per_kwh = models.DecimalField("energy charge per kWh delivered", default=0, **MONEY)
    currency = models.CharField(
        max_length=3, default="GBP", help_text="ISO 4217 code, for example GBP or EUR."
    )

    # the heat source the recovered heat displaces
    displaced_source = models.CharField(
        max_length=20, choices=HeatSource.choices, default=HeatSource.GAS_BOILER
    )
    displaced_efficiency = models.FloatField(
        "displaced source efficiency",
        default=0.9,
        help_text="Heat out per unit of fuel in: 0.9 for a gas boiler, the seasonal COP for a heat pump.",
    )
    emission_factor_kg_per_kwh = models.FloatField(
        "emission factor (kg CO₂e per kWh of fuel)",
        default=0.183,
        validators=[MinValueValidator(0), MaxValueValidator(2)],
    )
    fuel_price_per_kwh = models.DecimalField("fuel price per kWh", default=0, **MONEY)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        if self.currency:
            self.currency = self.currency.upper()
        super().save(*args, **kwargs)

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if (
            self.supply_temp_min_c is not None
            and self.supply_temp_max_c is not None
            and self.supply_temp_min_c >= self.supply_temp_max_c
        ):
            errors["supply_temp_max_c"] = (
                f"The highest supply temperature ({self.supply_temp_max_c} °C) must be above "
                f"the lowest ({self.supply_temp_min_c} °C)."
            )
        if self.displaced_efficiency is not None:
            ceiling = MAX_EFFICIENCY.get(self.displaced_source, DEFAULT_MAX_EFFICIENCY)
            if not 0 < self.displaced_efficiency <= ceiling:
                source = HeatSource(self.displaced_source).label if self.displaced_source else "source"
                errors["displaced_efficiency"] = (
                    f"A {source.lower()} has an efficiency above 0 and at most {ceiling}; "
                    f"{self.displaced_efficiency} is not credible."
                )
        if self.currency and not (len(self.currency) == 3 and self.currency.isalpha()):
            errors["currency"] = "Use a three-letter ISO 4217 code such as GBP or EUR."
        if errors:
            raise ValidationError(errors)
