"""The business case's arithmetic on the plan and on the monthly figures the reports
computed (never on raw series): what each scenario planned for a month, what a measured
month brought in, cumulative cash flow and the payback date.

A month's cash: heat revenue (the two-part tariff) + compute revenue − opex, and the
avoided fuel cost too when the case counts it (``avoided_fuel_in_cash_flow``); capex is
paid at the start of its month. heatops meters no compute revenue and no opex, so a
measured month counts the expected scenario's compute revenue scaled by the uptime
measured against the uptime planned (at most the plan), and the expected scenario's opex.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from .choices import ScenarioKind

HORIZON_MONTHS = 300  # payback is looked for up to 25 years after the start
MIN_COVERAGE = 0.02  # a month whose heat data covers less of it says nothing of the rate


def add_months(day: date, n: int) -> date:
    y, m = divmod(day.month - 1 + n, 12)
    return date(day.year + y, m + 1, 1)


def months_between(a: date, b: date) -> int:
    """Whole months from the month of ``a`` to the month of ``b``."""
    return (b.year - a.year) * 12 + b.month - a.month


@dataclass
class PlanMonth:
    """A scenario's yearly figures as floats, and what they come to for ``months`` of a month."""

    kind: str
    opex: float
    heat_kwh: float
    heat_revenue: float
    avoided_fuel_kwh: float
    avoided_cost: float
    avoided_co2e_kg: float
    compute_revenue: float
    it_kwh: float
    uptime: float

    @classmethod
    def of(cls, scenario) -> PlanMonth:
        """Per month (a twelfth of the year) from a Scenario row."""
        return cls(
            kind=scenario.kind,
            opex=float(scenario.opex_per_year) / 12,
            heat_kwh=scenario.heat_sales_kwh_per_year / 12,
            heat_revenue=float(scenario.heat_revenue_per_year) / 12,
            avoided_fuel_kwh=scenario.avoided_fuel_kwh_per_year / 12,
            avoided_cost=float(scenario.avoided_cost_per_year) / 12,
            avoided_co2e_kg=scenario.avoided_co2e_kg_per_year / 12,
            compute_revenue=float(scenario.compute_revenue_per_year) / 12,
            it_kwh=scenario.it_energy_kwh_per_year / 12,
            uptime=scenario.uptime,
        )

    def net(self, *, with_avoided: bool) -> float:
        """Operating cash in a whole month."""
        return (
            self.heat_revenue
            + self.compute_revenue
            - self.opex
            + (self.avoided_cost if with_avoided else 0.0)
        )

    def for_share(self, share: float) -> dict:
        """The plan's figures for ``share`` of a month (1.0 for a whole one)."""
        return {
            "heat_kwh": self.heat_kwh * share,
            "heat_revenue": self.heat_revenue * share,
            "avoided_cost": self.avoided_cost * share,
            "avoided_co2e_kg": self.avoided_co2e_kg * share,
            "it_kwh": self.it_kwh * share,
            "uptime": self.uptime,
        }


@dataclass
class Measured:
    """One measured month (or the month so far): the report's figures and what they bring in."""

    month: date
    share: float  # of the calendar month the figures are for (less than 1 for the month so far)
    figures: dict
    compute_revenue: float
    cash: float  # operating cash, before capex
    full_month_rate: float | None  # the cash a whole month at this month's pace would bring


def measured_month(
    *, month: date, share: float, figures: dict, expected: PlanMonth, with_avoided: bool
) -> Measured:
    availability = figures.get("availability")
    uptime_ratio = (
        min(1.0, availability / expected.uptime) if availability is not None and expected.uptime else 0.0
    )
    compute = expected.compute_revenue * share * uptime_ratio
    energy_income = (figures.get("revenue_energy") or 0.0) + (
        (figures.get("avoided_cost") or 0.0) if with_avoided else 0.0
    )
    capacity = figures.get("revenue_capacity") or 0.0
    opex = expected.opex * share
    cash = capacity + energy_income + compute - opex
    coverage = figures.get("heat_coverage") or 0.0
    rate = None
    if share > 0 and coverage >= MIN_COVERAGE:
        # what the heat metered brings in, over the time it covers, extended to the whole period
        rate = (
            (capacity + energy_income / coverage) / share
            + expected.compute_revenue * uptime_ratio
            - expected.opex
        )
    return Measured(month, share, figures, compute, cash, rate)


@dataclass
class CashFlow:
    months: list[date]  # the first of each month from the start
    cumulative: list[float]  # at the end of each month
    payback: date | None


def _payback_in_month(month: date, before: float, net: float) -> date | None:
    """The day cumulative cash ``before`` (after the month's capex) reaches zero with ``net``
    earned evenly over the month, or None if it does not in this month."""
    if before >= 0:
        return month
    if net <= 0 or before + net < 0:
        return None
    days = calendar.monthrange(month.year, month.month)[1]
    return month + timedelta(days=int(days * (-before / net)))


def cash_flow(
    *,
    start: date,
    capex: dict[date, float],
    net_of_month: Callable[[int], float],
    months: int = HORIZON_MONTHS,
) -> CashFlow:
    """Cumulative cash month by month from ``start``: each month's capex paid at its start
    (capex dated before the start is paid in the first month), then ``net_of_month(i)``
    earned evenly over it. Payback: the day from which it stays at zero or above."""
    early = sum(v for m, v in capex.items() if m < start)
    cum, out, days = 0.0, [], []
    last_negative, crossing = None, None  # the last month it is below zero, and its (before, net)
    for i in range(months):
        month = add_months(start, i)
        cum -= capex.get(month, 0.0) + (early if i == 0 else 0.0)
        net = net_of_month(i)
        if cum < 0 or cum + net < 0:
            last_negative, crossing = i, (cum, net)
        cum += net
        out.append(cum)
        days.append(month)
    if last_negative is None:
        payback = start
    elif last_negative == months - 1 and out[-1] < 0:
        payback = None
    else:
        payback = _payback_in_month(days[last_negative], *crossing)
    return CashFlow(days, out, payback)


@dataclass
class Comparison:
    scenarios: dict[str, CashFlow]
    actual: CashFlow | None  # measured months, then the projection at the measured pace
    measured: list[Measured]
    rate: float | None  # cash per month at the measured pace
    plan: dict[str, PlanMonth] = field(default_factory=dict)


def compare(
    *,
    start: date,
    capex: dict[date, float],
    plans: Sequence[PlanMonth],
    measured: Sequence[Measured],
    with_avoided: bool,
) -> Comparison:
    """Each scenario's cash flow, and the actual one: the measured months' cash, then the
    average pace of the measured months (each extended to a whole month by its coverage)."""
    by_kind = {p.kind: p for p in plans}
    flows = {
        p.kind: cash_flow(
            start=start, capex=capex, net_of_month=lambda i, p=p: p.net(with_avoided=with_avoided)
        )
        for p in plans
    }
    rates = [m.full_month_rate for m in measured if m.full_month_rate is not None]
    rate = sum(rates) / len(rates) if rates else None
    actual = None
    if measured and rate is not None:
        done = {months_between(start, m.month): m for m in measured}

        def net(i: int) -> float:
            m = done.get(i)
            if m is None:  # a month not measured (before the ones read): at the measured pace
                return rate
            return m.cash + (rate * (1 - m.share) if i == max(done) else 0.0)

        actual = cash_flow(start=start, capex=capex, net_of_month=net)
    return Comparison(flows, actual, list(measured), rate, by_kind)


def expected_plan(plans: Sequence[PlanMonth]) -> PlanMonth | None:
    by_kind = {p.kind: p for p in plans}
    return by_kind.get(ScenarioKind.EXPECTED) or (plans[0] if plans else None)
