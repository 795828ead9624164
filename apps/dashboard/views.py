from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from apps.accounts.selectors import request_sites, site_visible_or_404
from apps.telemetry.influx.client import get_client
from apps.telemetry.influx.errors import InfluxError

from .capacity import PlantState, project_capacity
from .config import SiteConfig
from .live import current_site_payload, current_site_readings, current_system_html
from .signals import site_page_notes

log = logging.getLogger(__name__)
# What a browser is told when InfluxDB fails; the details (statement, address) are logged.
INFLUX_FAILED = "InfluxDB did not answer this query; the details are in the server's log."

# range -> (span, bucket): a few hundred points per series whatever the range
RANGES = {
    "1h": (timedelta(hours=1), "10s"),
    "24h": (timedelta(hours=24), "2m"),
    "7d": (timedelta(days=7), "15m"),
    "30d": (timedelta(days=30), "1h"),
}
CHART_SERIES = [
    # (measurement, fields, extra tags, names in the answer)
    ("facility", ["it_power_kw"], {}, ["it_kw"]),
    ("heat_meter", ["power_kw"], {}, ["heat_kw"]),
    (
        "loop",
        ["supply_temp_c", "return_temp_c", "delta_t_k"],
        {"loop": "primary"},
        ["supply_c", "return_c", "delta_t"],
    ),
    ("tank", ["soc_pct"], {}, ["soc"]),
    ("consumer", ["demand_kw", "delivered_kw"], {}, ["demand_kw", "delivered_kw"]),
]


def _duration_ms(every: str) -> int:
    units = {"s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}
    return int(every[:-1]) * units[every[-1]]


@login_required
@require_GET
def portfolio(request):
    sites = request_sites(request)
    tiles = [current_site_payload(site)["tile_html"] for site in sites]
    return render(
        request,
        "dashboard/portfolio.html",
        {"tiles": tiles, "system_html": current_system_html()},
    )


@login_required
@require_GET
def site_detail(request, slug: str):
    site = site_visible_or_404(request.user, slug)
    payload = current_site_payload(site)
    return render(
        request,
        "dashboard/site.html",
        {
            "site": site,
            "site_html": payload["site_html"],
            "notes": [
                html
                for _r, html in site_page_notes.send(sender=site_detail, site=site, user=request.user)
                if html
            ],
            "system_html": current_system_html(),
            "ranges": list(RANGES),
            "wall": request.GET.get("wall") == "1",  # the plant room's wall screen: one screen, no scrolling
        },
    )


@login_required
@require_GET
def site_history(request, slug: str):
    """Chart history for a range, downsampled inside InfluxDB in one request. Empty
    buckets are left out; the page breaks the line where points are further apart than
    ``gap_ms``, so a gap in the data shows as a gap, never as a line across it."""
    site = site_visible_or_404(request.user, slug)
    key = request.GET.get("range", "1h")
    if "start" in request.GET:  # an explicit window (an incident's), bucketed like the nearest range
        try:
            start = datetime.fromtimestamp(int(request.GET["start"]) / 1000, UTC)
            end = datetime.fromtimestamp(
                int(request.GET.get("end") or datetime.now(UTC).timestamp() * 1000) / 1000, UTC
            )
        except (ValueError, OverflowError, OSError):
            return JsonResponse({"error": "start and end must be epoch milliseconds"}, status=400)
        if end <= start:
            return JsonResponse({"error": "end must come after start"}, status=400)
        key = next((k for k, (span, _) in RANGES.items() if end - start <= span), "30d")
        every = RANGES[key][1]
    elif key not in RANGES:
        return JsonResponse({"error": f"range must be one of {', '.join(RANGES)}"}, status=400)
    else:
        span, every = RANGES[key]
        end = datetime.now(UTC)
        start = end - span
    since = request.GET.get("since")
    if since:  # a reconnecting page asks only for what it missed
        try:
            start = max(start, datetime.fromtimestamp(int(since) / 1000, UTC))
        except (ValueError, OverflowError, OSError):
            return JsonResponse({"error": "since must be epoch milliseconds"}, status=400)
    specs = [
        {
            "measurement": m,
            "fields": f,
            "tags": {"site": site.slug, **t},
            "start": start,
            "end": end,
            "every": every,
            "fill": "none",
            "group_by": [],
        }
        for m, f, t, _ in CHART_SERIES
    ]
    try:
        results = get_client().windows(specs)
    except InfluxError as exc:
        log.warning("site %s history: %s", site.slug, exc)  # the client logged the statement
        return JsonResponse({"error": INFLUX_FAILED}, status=503)
    series = {}
    for (_m, fields, _t, names), result in zip(CHART_SERIES, results, strict=True):
        for fld, name in zip(fields, names, strict=True):
            t, v = [], []
            for s in result:
                i = s.columns.index(fld)
                for row in s.values:
                    t.append(row[0])
                    v.append(row[i])
            series[name] = {"t": t, "v": v}
    gap_ms = max(3 * _duration_ms(every), int(settings.HEATOPS_STALE_AFTER_S * 1000))
    return JsonResponse(
        {
            "range": key,
            "every": every,
            "gap_ms": gap_ms,
            "start": int(start.timestamp() * 1000),
            "end": int(end.timestamp() * 1000),
            "series": series,
        }
    )


@login_required
@require_GET
def site_capacity(request, slug: str):
    site = site_visible_or_404(request.user, slug)
    cfg = SiteConfig.from_site(site)
    now = datetime.now(UTC)
    readings = current_site_readings(site, now=now)
    soc = readings.value("tank", "soc_pct")
    it_kw = readings.value("facility", "it_power_kw")
    if it_kw is None:
        it_kw = readings.total("rack", "power_kw")
    try:
        projection = project_capacity(
            client=get_client(),
            cfg=cfg,
            timezone=site.timezone,
            soc=soc,
            it_kw=it_kw,
            plant=PlantState.from_readings(cfg, readings),
            now=now,
        )
        error = ""
    except InfluxError as exc:
        log.warning("site %s capacity: %s", site.slug, exc)
        projection, error = None, "the details are in the server's log."
    chart = None
    if projection:
        chart = {
            "t": projection.hours_ms,
            **projection.counted(),
            "absorbable": projection.absorbable_kw,
            "it": it_kw,
        }
    return render(
        request,
        "dashboard/_capacity.html",
        {"site": site, "projection": projection, "chart": chart, "error": error},
    )
