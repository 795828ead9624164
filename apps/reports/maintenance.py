"""The report's maintenance: the windows of the period, the SLA figures with and without the
maintenance time the contract allows, and the maintenance record (log and work orders).

The contract allows ``Site.allowed_maintenance_hours_per_month`` of planned maintenance
(pro-rated as its other monthly terms). The time inside the site's maintenance windows
(asset windows too, overlaps counted once), up to that allowance and in the order it
happened, is taken out of both sides of the supply temperature SLA (time called for, time
in band) and of compute availability (time with IT data, time up). Within an hour, the
hourly figures are shares of the samples received, so the excluded minutes take the
hour's shares."""

from __future__ import annotations

from datetime import datetime

from apps.maintenance.selectors import log_entries_between, windows_overlapping, work_orders_between

from .figures import hour_figures
from .jobs import Job


def _merged(spans: list[tuple[datetime, datetime]]) -> list[tuple[int, int]]:
    """The spans (epoch ms), overlaps merged."""
    out: list[list[int]] = []
    for a, b in sorted((int(a.timestamp() * 1000), int(b.timestamp() * 1000)) for a, b in spans):
        if b <= a:
            continue
        if out and a <= out[-1][1]:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return [(a, b) for a, b in out]


def maintenance_figures(job: Job) -> dict:
    """Maintenance hours of the period, the contract's allowance, and the SLA and compute
    availability without the maintenance time allowed."""
    site, period = job.site, job.period
    windows = list(windows_overlapping(site=site, start=period.start_utc, end=period.stop_utc))
    spans = _merged([(max(w.began, period.start_utc), min(w.finished, period.stop_utc)) for w in windows])
    allowed_s = site.allowed_maintenance_hours_per_month * 3600 * period.months_elapsed
    budget = allowed_s
    called = inband = up = it_s = 0.0
    x_called = x_inband = x_up = x_it = 0.0  # the parts excluded
    window_s = sum((b - a) / 1000 for a, b in spans)
    for h in hour_figures(job):
        end = h.t + int(h.length_s * 1000)
        inside = sum(max(0, min(b, end) - max(a, h.t)) for a, b in spans) / 1000
        share = min(inside, budget) / h.length_s if h.length_s else 0.0
        budget -= share * h.length_s
        c, i, _joint = h.sla
        called, inband = called + c, inband + i
        up, it_s = up + h.up * h.length_s, it_s + h.it_cov * h.length_s
        x_called, x_inband = x_called + c * share, x_inband + i * share
        x_up, x_it = x_up + h.up * h.length_s * share, x_it + h.it_cov * h.length_s * share
    return {
        "maintenance_windows": len(windows),
        "maintenance_hours": window_s / 3600,
        "maintenance_allowed_hours": allowed_s / 3600,
        "maintenance_excluded_hours": min(window_s, allowed_s) / 3600,
        "sla_compliance_excl_maintenance": (inband - x_inband) / (called - x_called)
        if called - x_called > 0
        else None,
        "availability_excl_maintenance": (up - x_up) / (it_s - x_it) if it_s - x_it > 0 else None,
    }


def maintenance_record(site, period) -> dict:
    """The period's windows, log entries and work orders, for the page and the PDF."""
    start, stop = period.start_utc, period.stop_utc
    return {
        "windows": list(windows_overlapping(site=site, start=start, end=stop)),
        "log": list(log_entries_between(site=site, start=start, end=stop)),
        "work_orders": list(work_orders_between(site=site, start=start, end=stop)),
    }
