"""The report's maintenance: SLA figures with and without the maintenance time the contract
allows, and the month's windows, log entries and work orders in the page and the CSV."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.urls import reverse

from apps.maintenance.choices import LogKind, WindowState, WorkOrderState
from apps.maintenance.models import LogEntry, MaintenanceWindow, WorkOrder
from apps.reports.selectors import site_report

from .conftest import previous_month_period, series


def test_sla_figures_with_and_without_the_maintenance_the_contract_allows(
    client, influx, contract_site, admin_user, now
):
    """Three hours of maintenance on the 5th: supply out of band and compute down. The
    contract allows two hours a month, so two of the three are taken out of both figures."""
    site = contract_site
    site.allowed_maintenance_hours_per_month = 2
    site.save()
    period = previous_month_period(site.timezone, now)
    start, end, step = period.start_utc, period.end_utc, timedelta(minutes=10)
    work = (start + timedelta(days=4, hours=9), start + timedelta(days=4, hours=12))

    def during(t):
        return work[0] <= t < work[1]

    tags = {"site": site.slug}
    series(influx, "consumer", tags, start, end, step, lambda t: {"demand_kw": 30.0})
    series(
        influx,
        "heat_meter",
        {**tags, "asset": "meter-1"},
        start,
        end,
        step,
        lambda t: {"power_kw": 30.0, "supply_temp_c": 70.0 if during(t) else 50.0},
    )
    series(influx, "facility", tags, start, end, step, lambda t: {"it_power_kw": 0.0 if during(t) else 40.0})
    window = MaintenanceWindow.objects.create(
        site=site,
        reason="Pump service",
        owner=admin_user,
        planned_start=work[0],
        planned_end=work[1],
        actual_start=work[0],
        actual_end=work[1],
        state=WindowState.ENDED,
    )
    LogEntry.objects.create(
        site=site,
        kind=LogKind.REPAIR,
        performed_by=admin_user,
        performed_at=work[0],
        notes="bearings replaced",
    )
    WorkOrder.objects.create(
        site=site,
        title="Replace the pump bearings",
        state=WorkOrderState.DONE,
        created_at=work[0],
        done_at=work[1],
    )
    WorkOrder.objects.create(  # raised and done long before: not this month's
        site=site, title="Old order", state=WorkOrderState.DONE, created_at=start - timedelta(days=90)
    )

    report = site_report(site=site, period=period, now=now)
    fig, hours = report.figures, period.hours
    assert fig["maintenance_windows"] == 1
    assert (
        fig["maintenance_hours"],
        fig["maintenance_allowed_hours"],
        fig["maintenance_excluded_hours"],
    ) == (
        pytest.approx(3),
        pytest.approx(2),
        pytest.approx(2),
    )
    assert fig["sla_compliance"] == pytest.approx((hours - 3) / hours, rel=1e-6)
    assert fig["sla_compliance_excl_maintenance"] == pytest.approx((hours - 3) / (hours - 2), rel=1e-6)
    assert fig["availability"] == pytest.approx((hours - 3) / hours, rel=1e-6)
    assert fig["availability_excl_maintenance"] == pytest.approx((hours - 3) / (hours - 2), rel=1e-6)
    assert [w.pk for w in report.maintenance["windows"]] == [window.pk]
    assert [o.title for o in report.maintenance["work_orders"]] == ["Replace the pump bearings"]

    client.force_login(admin_user)
    html = client.get(reverse("reports:site_month", args=[site.slug, period.label])).content.decode()
    section = html.split("Maintenance and interventions", 1)[1]
    for text in (
        "Pump service",
        "bearings replaced",
        "Replace the pump bearings",
        "the contract allows 2.0 h",
    ):
        assert text in section, text
    assert "Old order" not in section
    assert f"{100 * (hours - 3) / (hours - 2):.1f} %" in section
    [row] = csv.DictReader(
        io.StringIO(
            client.get(reverse("reports:site_month_csv", args=[site.slug, period.label])).content.decode()
        )
    )
    assert float(row["maintenance_excluded_hours"]) == pytest.approx(2)
    assert float(row["sla_compliance_excl_maintenance"]) == pytest.approx((hours - 3) / (hours - 2), rel=1e-6)
