"""Reading a business case and the months measured since its start. The monthly figures are
the reports' own (apps.reports.selectors.site_period_figures): computed inside InfluxDB by
the same code as the monthly report, one period per month, the month so far up to the end
of today (local)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from apps.reports.periods import Period, local_today, next_month_start
from apps.reports.selectors import site_period_figures
from apps.sites.models import Site

from .choices import ScenarioKind
from .models import BusinessCase
from .plan import Comparison, Measured, PlanMonth, add_months, compare, expected_plan, measured_month

MAX_MEASURED_MONTHS = 60  # older months count at the pace of these


def business_case_of(site: Site) -> BusinessCase | None:
    return (
        BusinessCase.objects.filter(site=site)
        .select_related("site", "updated_by")
        .prefetch_related("capex_items", "scenarios")
        .first()
    )


def measured_periods(case: BusinessCase, *, now: datetime) -> list[Period]:
    """Each month from the case's start to today (the month so far), the latest
    MAX_MEASURED_MONTHS of them, in the site's time zone."""
    tz = case.site.timezone
    today = local_today(tz, now)
    first = case.start.replace(day=1)
    out = []
    month = first
    while month <= today:
        out.append(Period(month, min(next_month_start(month), today + timedelta(days=1)), tz))
        month = add_months(month, 1)
    return out[-MAX_MEASURED_MONTHS:]


@dataclass
class CaseView:
    case: BusinessCase
    comparison: Comparison
    expected: PlanMonth | None
    periods: list[Period]


def plans_of(case: BusinessCase) -> list[PlanMonth]:
    order = {k: i for i, k in enumerate(ScenarioKind.values)}
    return sorted((PlanMonth.of(s) for s in case.scenarios.all()), key=lambda p: order[p.kind])


def capex_of(case: BusinessCase) -> dict:
    capex: dict = {}
    for item in case.capex_items.all():
        month = item.month.replace(day=1)
        capex[month] = capex.get(month, 0.0) + float(item.amount)
    return capex


def case_against_reality(case: BusinessCase, *, now: datetime, client=None) -> CaseView:
    """The plan beside the measured months, and the cash flows with their payback dates."""
    plans = plans_of(case)
    expected = expected_plan(plans)
    periods = measured_periods(case, now=now)
    measured: list[Measured] = []
    if periods and expected is not None:
        rows = site_period_figures(sites=[case.site] * len(periods), periods=periods, client=client)
        for period, figures in zip(periods, rows, strict=True):
            measured.append(
                measured_month(
                    month=period.start,
                    share=period.months,
                    figures=figures,
                    expected=expected,
                    with_avoided=case.avoided_fuel_in_cash_flow,
                )
            )
    comparison = compare(
        start=case.start.replace(day=1),
        capex=capex_of(case),
        plans=plans,
        measured=measured,
        with_avoided=case.avoided_fuel_in_cash_flow,
    )
    return CaseView(case, comparison, expected, periods)
