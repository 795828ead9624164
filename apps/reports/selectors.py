"""Reads for reports: a site's period with its comparisons, and the portfolio's month."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.conf import settings

from apps.alarms.choices import Domain, Severity
from apps.alarms.selectors import alarms_fired, manual_interventions, response_times
from apps.sites.models import Site
from apps.telemetry.influx.client import InfluxClient, get_client

from .compute import Job, collect
from .figures import daily, figures, sla_heatmap
from .maintenance import maintenance_figures, maintenance_record
from .models import ReportSnapshot
from .periods import Period, last_month, local_today, month_period, previous_month

# the figures a ranking may order sites by: key -> (label, higher is better)
RANKINGS = {
    "erf": ("ERF", True),
    "heat_delivered_kwh": ("Heat delivered", True),
    "heat_recovery_ratio": ("Heat recovery ratio", True),
    "sla_compliance": ("SLA compliance", True),
    "availability": ("Compute availability", True),
    "pue": ("PUE", False),
    "avoided_emissions_kg": ("Avoided emissions", True),
    "revenue_total": ("Heat revenue", True),
}


def alarm_figures(site: Site, period: Period) -> dict:
    """Alarms fired in the period by severity and domain, how they were answered (as the
    incident page counts it) and manual interventions."""
    alarms = list(
        alarms_fired(site=site, start=period.start_utc, end=period.stop_utc).only(
            "severity", "domain", "fired_at", "acknowledged_at", "resolved_at"
        )
    )
    values: dict = {"alarms_total": len(alarms)}
    for s in Severity.values:
        values[f"alarms_{s}"] = sum(a.severity == s for a in alarms)
    for d in Domain.values:
        values[f"alarms_{d}"] = sum(a.domain == d for a in alarms)
    answered = response_times(alarms)
    values["mtta_s"] = answered.mtta_s
    values["mttr_s"] = answered.mttr_s
    values["mtta_min"] = answered.mtta_s / 60 if answered.mtta_s is not None else None
    values["mttr_min"] = answered.mttr_s / 60 if answered.mttr_s is not None else None
    values["alarms_acknowledged"] = answered.acknowledged
    values["alarms_unacknowledged"] = answered.unacknowledged
    values["alarms_resolved"] = answered.resolved
    values["manual_interventions"] = manual_interventions(
        site=site, start=period.start_utc, end=period.stop_utc
    )
    return values


def alarm_matrix(site: Site, period: Period) -> list[dict]:
    """Rows per domain, a column per severity, for the page."""
    alarms = alarms_fired(site=site, start=period.start_utc, end=period.stop_utc)
    counts: dict[tuple[str, str], int] = {}
    for domain, severity in alarms.values_list("domain", "severity"):
        counts[(domain, severity)] = counts.get((domain, severity), 0) + 1
    return [
        {
            "domain": label,
            "cells": [counts.get((value, s), 0) for s in Severity.values],
            "total": sum(counts.get((value, s), 0) for s in Severity.values),
        }
        for value, label in Domain.choices
    ]


@dataclass
class SiteReport:
    site: Site
    period: Period
    figures: dict
    days: list[dict]
    heatmap: dict
    alarm_matrix: list[dict]
    maintenance: dict = field(default_factory=dict)  # the period's windows, log entries, work orders
    compare: dict[str, dict] = field(default_factory=dict)  # "previous" / "last_year" -> figures


def published_marks(snap: ReportSnapshot | None, *, from_it: bool = True) -> dict:
    """Which published version a row's figures come from (``from_it``) or, for figures
    computed now, the latest published version of the same period."""
    return {
        "published_version": snap.version if snap else None,
        "published_at": snap.created_at.isoformat() if snap else None,
        "figures_from": "published" if snap and from_it else "computed",
    }


def _job(site: Site, period: Period) -> Job:
    return Job(site=site, period=period)


def site_period_figures(
    *, sites: Sequence[Site], periods: Sequence[Period], client: InfluxClient | None = None
) -> list[dict]:
    """Figures (InfluxDB and alarms) for each (site, period) pair, computed now, in few
    requests."""
    jobs = [_job(s, p) for s, p in zip(sites, periods, strict=True)]
    collect(jobs, client=client or get_client())
    return [
        {
            **figures(j),
            **maintenance_figures(j),
            **alarm_figures(j.site, j.period),
            "figures_from": "computed",
        }
        for j in jobs
    ]


def site_report(
    *,
    site: Site,
    period: Period,
    client: InfluxClient | None = None,
    compare: bool = True,
    now: datetime | None = None,
) -> SiteReport:
    """One site over a period, with the previous month and the same month a year before
    when the period is a month. Comparisons come from the latest published snapshot when
    there is one (published figures do not change), else they are computed alongside.
    A period not over at ``now`` (default: the wall clock) is reported up to ``now``."""
    period = period.as_of(now or datetime.now(UTC))
    jobs = [_job(site, period)]
    compare_periods: dict[str, Period] = {}
    if compare and period.is_month:
        y, m = period.start.year, period.start.month
        compare_periods = {
            "previous": month_period(site.timezone, *previous_month(y, m)),
            "last_year": month_period(site.timezone, y - 1, m),
        }
    published = {}
    for key, p in compare_periods.items():
        snap = ReportSnapshot.objects.latest_for(site=site, period_start=p.start, period_end=p.end)
        if snap is not None:
            published[key] = {**snap.figures, **published_marks(snap)}
        else:
            jobs.append(_job(site, p))
    collect(jobs, client=client or get_client())
    main = jobs[0]
    latest = ReportSnapshot.objects.latest_for(site=site, period_start=period.start, period_end=period.end)
    report = SiteReport(
        site=site,
        period=period,
        figures={
            **figures(main),
            **maintenance_figures(main),
            **alarm_figures(site, period),
            **published_marks(latest, from_it=False),
        },
        maintenance=maintenance_record(site, period),
        days=daily(main),
        heatmap=sla_heatmap(main),
        alarm_matrix=alarm_matrix(site, period),
    )
    computed = {j.period.key: j for j in jobs[1:]}
    for key, p in compare_periods.items():
        if key in published:
            report.compare[key] = published[key]
        else:
            report.compare[key] = {
                **figures(computed[p.key]),
                **maintenance_figures(computed[p.key]),
                **alarm_figures(site, p),
                **published_marks(None),
            }
    return report


def portfolio_month(
    *,
    sites: Sequence[Site],
    year: int,
    month: int,
    client: InfluxClient | None = None,
    now: datetime | None = None,
) -> list[dict]:
    """Every site's figures for a month (each in its own time zone): a site's latest
    published version where there is one (what its recipients were sent), computed now
    for the others, all of those in the same few requests (a month not over at ``now``:
    up to ``now``)."""
    sites = list(sites)
    now = now or datetime.now(UTC)
    rows: dict[int, dict] = {}
    live_sites, live_periods = [], []
    for site in sites:
        period = month_period(site.timezone, year, month).as_of(now)
        snap = ReportSnapshot.objects.latest_for(site=site, period_start=period.start, period_end=period.end)
        if snap is not None:
            rows[site.pk] = {**snap.figures, **published_marks(snap)}
        else:
            live_sites.append(site)
            live_periods.append(period)
    if live_sites:
        for site, fig in zip(
            live_sites,
            site_period_figures(sites=live_sites, periods=live_periods, client=client),
            strict=True,
        ):
            rows[site.pk] = {**fig, **published_marks(None)}  # none published
    return [rows[s.pk] for s in sites]


def portfolio_totals(rows: Sequence[dict]) -> dict:
    """Sums over sites (ratios recomputed from the sums, never averaged), by currency."""

    def total(key: str) -> float | None:
        values = [r[key] for r in rows if r.get(key) is not None]
        return sum(values) if values else None

    heat, it, tot = total("heat_delivered_kwh"), total("it_energy_kwh"), total("total_energy_kwh")
    currencies = sorted({r["currency"] for r in rows})
    return {
        "sites": len(rows),
        "it_energy_kwh": it,
        "total_energy_kwh": tot,
        "heat_delivered_kwh": heat,
        "heat_recovery_ratio": _pooled(rows, "heat_recovery_ratio", "heat_delivered_kwh", "it_energy_kwh"),
        "erf": _pooled(rows, "erf", "heat_delivered_kwh", "total_energy_kwh"),
        "pue": _pooled(rows, "pue", "total_energy_kwh", "it_energy_kwh"),
        "avoided_fuel_kwh": total("avoided_fuel_kwh"),
        "avoided_emissions_kg": total("avoided_emissions_kg"),
        "alarms_total": total("alarms_total"),
        "manual_interventions": total("manual_interventions"),
        "money": [
            {
                "currency": c,
                "revenue_total": sum(r["revenue_total"] or 0 for r in rows if r["currency"] == c),
                "avoided_cost": sum(r["avoided_cost"] or 0 for r in rows if r["currency"] == c),
            }
            for c in currencies
        ],
    }


def _pooled(rows: Sequence[dict], ratio: str, numerator: str, denominator: str) -> float | None:
    """A ratio of the sums over sites of its numerator and denominator, each site's over the
    time all its inputs cover (a snapshot published before those were kept: its energies,
    where it has both)."""
    top = bottom = 0.0
    for row in rows:
        energies = (row.get("ratio_energies") or {}).get(ratio)
        if energies is None and "ratio_energies" not in row:
            if row.get(numerator) is None or row.get(denominator) is None:
                continue
            energies = [row[numerator], row[denominator]]
        if energies:
            top, bottom = top + energies[0], bottom + energies[1]
    return top / bottom if bottom else None


def ranking(rows: Sequence[dict], key: str) -> list[dict]:
    """Sites best first by ``key``; sites without the figure come last."""
    _label, higher_better = RANKINGS[key]
    known = [r for r in rows if r.get(key) is not None]
    unknown = [r for r in rows if r.get(key) is None]
    known.sort(key=lambda r: r[key], reverse=higher_better)
    return [{"rank": i, **r} for i, r in enumerate(known, start=1)] + [{"rank": None, **r} for r in unknown]


def default_month(*, sites: Sequence[Site], now: datetime | None = None) -> tuple[int, int]:
    """The portfolio's default: last month by the local clock of the sites shown (of the
    site whose clock is furthest behind, so it is over at every one of them), or by the
    project's time zone without sites. ``now`` defaults to the wall clock."""
    now = now or datetime.now(UTC)
    zones = {s.timezone for s in sites} or {settings.TIME_ZONE}
    return last_month(min(local_today(tz, now) for tz in zones))
