"""What the business-case page, its chart and its CSV show, from a CaseView."""

from __future__ import annotations

import csv
import io
from datetime import date

from apps.reports.presentation import csv_cell, csv_value

from .choices import ScenarioKind
from .plan import add_months, months_between
from .selectors import CaseView

LABELS = dict(ScenarioKind.choices)
# measured figure -> (the plan's key, label)
COMPARED = [
    ("heat_delivered_kwh", "heat_kwh", "Heat delivered and sold (kWh)"),
    ("revenue_total", "heat_revenue", "Heat revenue, two-part tariff"),
    ("avoided_cost", "avoided_cost", "Avoided fuel cost"),
    ("avoided_emissions_kg", "avoided_co2e_kg", "Avoided CO₂e (kg)"),
    ("it_energy_kwh", "it_kwh", "IT energy (kWh)"),
    ("availability", "uptime", "Compute uptime"),
]


def month_rows(view: CaseView) -> list[dict]:
    """Per measured month: each compared figure planned (expected scenario) and measured."""
    rows = []
    expected = view.expected
    for m in view.comparison.measured:
        planned = expected.for_share(m.share) if expected else {}
        rows.append(
            {
                "month": f"{m.month:%Y-%m}",
                "so_far": m.share < 0.999,
                "coverage": m.figures.get("heat_coverage") or 0.0,
                "cells": [
                    {
                        "label": label,
                        "planned": planned.get(plan_key),
                        "measured": m.figures.get(key),
                        "key": key,
                    }
                    for key, plan_key, label in COMPARED
                ],
                "compute_revenue": m.compute_revenue,
                "cash": m.cash,
            }
        )
    return rows


def paybacks(view: CaseView) -> list[dict]:
    out = [
        {"label": LABELS[kind], "kind": kind, "date": flow.payback}
        for kind, flow in view.comparison.scenarios.items()
    ]
    if view.comparison.actual is not None:
        out.append(
            {"label": "Projected from actuals", "kind": "actual", "date": view.comparison.actual.payback}
        )
    return out


def chart_data(view: CaseView, *, today: date) -> dict:
    """Cumulative cash at each month's end: every scenario, the measured months, and the
    projection at the measured pace, up to a year past the latest payback (at most 25 years)."""
    c = view.comparison
    start = view.case.start.replace(day=1)
    ends = [f.payback for f in [*c.scenarios.values(), *([c.actual] if c.actual else [])] if f.payback]
    last = max([*ends, today]) if ends else add_months(today, 60)
    n = min(
        months_between(start, last) + 13, len(next(iter(c.scenarios.values())).months) if c.scenarios else 0
    )
    x = [f"{add_months(start, i):%Y-%m-01}" for i in range(1, n + 1)]  # each month's end
    series = [
        {"name": LABELS[kind], "kind": kind, "y": [round(v, 2) for v in flow.cumulative[:n]]}
        for kind, flow in c.scenarios.items()
    ]
    measured, projected = [], []
    if c.actual is not None and c.measured:
        done = months_between(start, c.measured[-1].month)
        measured = [round(v, 2) if i <= done else None for i, v in enumerate(c.actual.cumulative[:n])]
        projected = [round(v, 2) if i >= done else None for i, v in enumerate(c.actual.cumulative[:n])]
    return {
        "x": x,
        "scenarios": series,
        "measured": measured,
        "projected": projected,
        "currency": view.case.site.currency,
        "paybacks": [
            {"label": p["label"], "kind": p["kind"], "date": p["date"].isoformat() if p["date"] else None}
            for p in paybacks(view)
        ],
    }


def csv_text(view: CaseView) -> str:
    """One row per measured month: the plan of every scenario and the measured figure for
    each compared quantity, the month's cash and the cumulative cash."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    kinds = list(view.comparison.plan)
    header = ["site", "site_name", "month", "share_of_month", "heat_coverage"]
    for key, _plan_key, _label in COMPARED:
        header += [f"{key}_plan_{k}" for k in kinds] + [f"{key}_measured"]
    header += ["compute_revenue_counted", "cash", "cumulative_cash"]
    writer.writerow(header)
    start = view.case.start.replace(day=1)
    actual = view.comparison.actual
    for m in view.comparison.measured:
        row = [csv_cell(view.case.site.slug), csv_cell(view.case.site.name), f"{m.month:%Y-%m}"]
        row += [csv_value(m.share), csv_value(m.figures.get("heat_coverage"))]
        for key, plan_key, _label in COMPARED:
            row += [csv_value(view.comparison.plan[k].for_share(m.share)[plan_key]) for k in kinds]
            row += [csv_value(m.figures.get(key))]
        cumulative = actual.cumulative[months_between(start, m.month)] if actual else None
        row += [csv_value(m.compute_revenue), csv_value(m.cash), csv_value(cumulative)]
        writer.writerow(row)
    return out.getvalue()
