"""The reports' tunables. Each may be set in Django settings or, failing that, in the
environment under the same name (docs/reports.md, 'Settings')."""

from __future__ import annotations

import os

from django.conf import settings

DEFAULTS = {
    # InfluxDB bucket each series is first averaged over: a sample interval longer than
    # this reads as gaps. Must divide an hour.
    "HEATOPS_REPORT_BUCKET": "1m",
    # consecutive points further apart than this many of the series' expected intervals
    # (an hour over its most common hourly count; plus half an interval's grace) are a gap.
    "HEATOPS_REPORT_MAX_GAP": "6",
    # |register - power integral| / power integral above this flags the heat meter.
    "HEATOPS_REPORT_METER_TOLERANCE": "0.02",
    # IT power above this (kW) counts as compute available.
    "HEATOPS_REPORT_IT_ON_KW": "1.0",
    # consumer demand above this (kW) counts as the consumer calling for heat.
    "HEATOPS_REPORT_DEMAND_ON_KW": "0.5",
    # seconds InfluxDB may take to answer one report request (a portfolio reads a month
    # of every site at once; the shared client's INFLUX_TIMEOUT is for live reads).
    "HEATOPS_REPORT_INFLUX_TIMEOUT": "120",
    # Chromium used to print PDFs.
    "HEATOPS_REPORT_CHROMIUM": "/usr/bin/chromium",
    # PDFs printed at once per process (each a Chromium); more wait their turn.
    "HEATOPS_REPORT_PDF_CONCURRENCY": "2",
    # seconds a printed PDF is kept for the same page (same figures, same version).
    "HEATOPS_REPORT_PDF_CACHE_S": "900",
}


def get(name: str) -> str:
    return str(getattr(settings, name, None) or os.environ.get(name) or DEFAULTS[name])


def bucket() -> str:
    return get("HEATOPS_REPORT_BUCKET")


def bucket_seconds(value: str | None = None) -> int:
    value = value or bucket()
    units = {"s": 1, "m": 60, "h": 3600}
    seconds = int(value[:-1]) * units[value[-1]]
    if seconds <= 0 or 3600 % seconds:
        raise ValueError(f"HEATOPS_REPORT_BUCKET={value!r} must divide an hour (for example 10s, 1m, 5m)")
    return seconds


def number(name: str) -> float:
    return float(get(name))
