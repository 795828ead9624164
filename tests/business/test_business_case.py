"""A business case against the real stores: saving the plan (audited), the measured months
read from the reports' figures of InfluxDB, cash flow and payback, the page, its CSV and
who may change it."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from apps.audit.models import AuditEntry
from apps.business.selectors import case_against_reality
from apps.business.services import Capex, business_case_save
from tests.security.test_exports import dangerous_cells

from .conftest import EXPECTED

pytestmark = pytest.mark.django_db


def test_saving_the_plan_is_audited_with_the_plan_before_and_after(case, people, now):
    entry = AuditEntry.objects.get(action="created business case")
    assert entry.user == people["manager"] and entry.reason == "board approved" and entry.before is None
    assert entry.after["scenarios"]["expected"]["compute_revenue_per_year"] == "60000.00"
    assert [c["amount"] for c in entry.after["capex"]] == ["80000.00", "150000.00"]

    business_case_save(
        site=case.site,
        start=case.start,
        capex=[Capex("Racks", Decimal("150000"), case.start)],
        scenarios={"expected": EXPECTED},
        user=people["admin"],
        reason="heat exchanger paid by the building",
        now=now,
    )
    change = AuditEntry.objects.get(action="changed business case")
    assert len(change.before["capex"]) == 2 and len(change.after["capex"]) == 1
    assert set(change.before["scenarios"]) == {"conservative", "expected", "aggressive"}
    assert set(change.after["scenarios"]) == {"expected"}
    assert case.scenarios.count() == 1 and case.capex_items.count() == 1


def test_a_plan_without_scenarios_or_with_an_unknown_one_is_refused(demo_sites, people, now):
    for scenarios in ({}, {"optimistic": EXPECTED}):
        with pytest.raises(ValidationError):
            business_case_save(
                site=demo_sites["pool"],
                start=now.date(),
                capex=[],
                scenarios=scenarios,
                user=people["manager"],
                now=now,
            )
    assert not AuditEntry.objects.filter(action__contains="business case").exists()


def test_measured_months_are_the_reports_figures_and_cash_follows_from_them(case, last_month, now):
    pool, period, figures = last_month
    assert figures["heat_delivered_kwh"] == pytest.approx(30.0 * period.hours, rel=1e-3)
    view = case_against_reality(case, now=now)
    first, current = view.comparison.measured[0], view.comparison.measured[-1]
    assert first.month == period.start and first.share == 1.0
    assert first.figures["heat_delivered_kwh"] == figures["heat_delivered_kwh"]
    assert first.figures["revenue_total"] == figures["revenue_total"]
    assert first.figures["availability"] == pytest.approx(1.0)
    # compute revenue as planned (uptime above plan counts as the plan), opex as planned
    assert first.compute_revenue == pytest.approx(5000.0)
    assert first.cash == pytest.approx(figures["revenue_total"] + 5000.0 - 1000.0)
    assert current.share < 1.0 and current.figures.get("heat_coverage", 0) == 0  # nothing written this month
    assert view.comparison.rate == pytest.approx(first.cash, rel=1e-3)  # heat covers nearly all of it
    # 230 000 of capex: each scenario pays back in its own time, the measured pace in between
    paybacks = {k: f.payback for k, f in view.comparison.scenarios.items()}
    assert paybacks["aggressive"] < paybacks["expected"] < paybacks["conservative"]
    assert view.comparison.actual.payback is not None


def test_the_page_shows_plan_against_measured_and_the_csv_neutralises_formulas(
    client, case, last_month, people
):
    pool, period, figures = last_month
    pool.name = '=HYPERLINK("http://evil")'
    pool.save()
    client.force_login(people["estates"])
    page = client.get(reverse("business:business_case", args=["pool"])).content.decode()
    assert f'data-month="{period.start:%Y-%m}"' in page
    assert f"{round(figures['heat_delivered_kwh']):,}" in page
    assert 'id="case-data"' in page and "plotly.min.js" in page
    assert "Change the plan" not in page  # estates read it

    response = client.get(reverse("business:business_case_csv", args=["pool"]))
    text = response.content.decode()
    assert response["Content-Type"].startswith("text/csv") and dangerous_cells(text) == []
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    assert rows[0]["site_name"].startswith("'=HYPERLINK")
    assert float(rows[0]["heat_delivered_kwh_measured"]) == pytest.approx(figures["heat_delivered_kwh"])
    assert float(rows[0]["heat_delivered_kwh_plan_expected"]) == pytest.approx(25_000.0)


def test_managers_change_the_plan_from_the_page_and_estates_may_not(client, last_month, people):
    pool, period, _figures = last_month
    url = reverse("business:business_case_edit", args=["pool"])
    body = {
        "start": f"{period.start:%Y-%m}",
        "capex": "2026-01; heat exchanger; 80,000\n\n2026-02; racks; 150000",
        "reason": "first plan",
        "expected-heat_revenue_per_year": "13740",
        "expected-compute_revenue_per_year": "60000",
        "expected-opex_per_year": "12000",
    }
    client.force_login(people["estates"])
    assert client.post(url, body).status_code == 403
    client.force_login(people["manager"])
    response = client.post(url, body)
    assert response.status_code == 302
    case = pool.business_case
    assert [(c.month.month, c.amount) for c in case.capex_items.all()] == [(1, 80000), (2, 150000)]
    expected = case.scenarios.get()
    assert expected.kind == "expected" and expected.uptime == 0.99 and expected.heat_sales_kwh_per_year == 0
    page = client.get(reverse("business:business_case", args=["pool"])).content.decode()
    assert "Projected from actuals" in page and "Change the plan" in page

    bad = client.post(url, {**body, "capex": "January; racks; lots"})
    assert bad.status_code == 400 and "Line 1" in bad.content.decode()
    assert AuditEntry.objects.filter(action__contains="business case").count() == 1


def test_a_site_without_a_business_case_says_so(client, demo_sites, people, influx):
    client.force_login(people["manager"])
    page = client.get(reverse("business:business_case", args=["pool"])).content.decode()
    assert 'id="no-case"' in page and "Write the business case" in page
    assert client.get(reverse("business:business_case_csv", args=["pool"])).status_code == 404


def test_the_demo_seed_plans_each_demo_site_from_its_contract(demo_sites, now, influx):
    from apps.business.demo import demo_business_cases

    assert demo_business_cases(list(demo_sites.values()), now=now) == "business cases for pool, school"
    assert demo_business_cases(list(demo_sites.values()), now=now) == "business cases kept"
    pool = demo_sites["pool"]
    assert pool.business_case.start == (now - timedelta(days=7)).date().replace(day=1)
    kinds = dict(pool.business_case.scenarios.values_list("kind", "compute_revenue_per_year"))
    assert kinds["conservative"] < kinds["expected"] < kinds["aggressive"]
