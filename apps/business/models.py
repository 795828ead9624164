"""A site's business case: its plan (capex items, and per scenario the yearly opex, heat
sales, avoided fuel, compute revenue, IT energy and uptime), compared with the monthly
figures the reports measure."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from apps.sites.models import Site

from .choices import ScenarioKind

MONEY = {"max_digits": 14, "decimal_places": 2}


class BusinessCase(models.Model):
    site = models.OneToOneField(Site, on_delete=models.CASCADE, related_name="business_case")
    start = models.DateField(help_text="The first month of operation (its 1st): cash flow counts from here.")
    avoided_fuel_in_cash_flow = models.BooleanField(
        default=False,
        help_text="On when the heat's user owns the plant too, so the fuel it no longer buys is its saving. "
        "Off (heat sold under the contract): the cash flow counts heat revenue, and avoided fuel is the "
        "building's saving, shown but not added (adding both would count the same heat twice).",
    )
    notes = models.TextField(blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "business case"

    def __str__(self) -> str:
        return f"{self.site.slug}: business case from {self.start:%Y-%m}"


class CapexItem(models.Model):
    case = models.ForeignKey(BusinessCase, on_delete=models.CASCADE, related_name="capex_items")
    description = models.CharField(max_length=200)
    amount = models.DecimalField(**MONEY, validators=[MinValueValidator(0)])
    month = models.DateField(help_text="The month it is paid (its 1st).")

    class Meta:
        ordering = ["month", "pk"]
        verbose_name = "capex item"

    def __str__(self) -> str:
        return f"{self.description} ({self.amount} in {self.month:%Y-%m})"


class Scenario(models.Model):
    """One scenario's plan, per year (spread evenly over the months)."""

    case = models.ForeignKey(BusinessCase, on_delete=models.CASCADE, related_name="scenarios")
    kind = models.CharField(max_length=12, choices=ScenarioKind.choices)
    opex_per_year = models.DecimalField(**MONEY, default=0, validators=[MinValueValidator(0)])
    heat_sales_kwh_per_year = models.FloatField(default=0, validators=[MinValueValidator(0)])
    heat_revenue_per_year = models.DecimalField(**MONEY, default=0, validators=[MinValueValidator(0)])
    avoided_fuel_kwh_per_year = models.FloatField(default=0, validators=[MinValueValidator(0)])
    avoided_cost_per_year = models.DecimalField(**MONEY, default=0, validators=[MinValueValidator(0)])
    avoided_co2e_kg_per_year = models.FloatField(default=0, validators=[MinValueValidator(0)])
    compute_revenue_per_year = models.DecimalField(**MONEY, default=0, validators=[MinValueValidator(0)])
    it_energy_kwh_per_year = models.FloatField(default=0, validators=[MinValueValidator(0)])
    uptime = models.FloatField(
        default=0.99,
        validators=[MinValueValidator(0), MaxValueValidator(1)],
        help_text="Planned share of the time compute is up (0.99 = 99 %).",
    )

    class Meta:
        ordering = ["case", "kind"]
        constraints = [models.UniqueConstraint(fields=["case", "kind"], name="one_scenario_of_each_kind")]

    def __str__(self) -> str:
        return f"{self.case.site.slug}: {self.get_kind_display()}"
