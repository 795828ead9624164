"""Reading maintenance: which window covers an alarm now, which windows overlap a period
(for the monthly report's SLA figures), what the dashboards show, who may own the work."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import Coalesce

from apps.accounts.selectors import people_with_access
from apps.ownership.choices import Area
from apps.ownership.models import Assignment

from .choices import OPEN_WINDOW_STATES, WindowState
from .models import LogEntry, MaintenanceWindow, WorkOrder


def _covering_at(at: datetime) -> Q:
    """Windows in force at ``at``: active ones since they started, scheduled ones from their
    planned start (the minute task marks them active), in both cases until their planned end
    (an ended or cancelled window covers nothing)."""
    return Q(planned_end__gt=at) & (
        Q(state=WindowState.ACTIVE, actual_start__lte=at)
        | Q(state=WindowState.SCHEDULED, planned_start__lte=at)
    )


def windows_covering(*, site_id: int, asset_id: int | None, at: datetime) -> QuerySet[MaintenanceWindow]:
    """Every window covering (site, asset) at ``at``: a window on the asset, or a site-wide one.
    Something without an asset (a site-wide alarm) is covered by site-wide windows only."""
    scope = Q(asset__isnull=True) | Q(asset_id=asset_id) if asset_id else Q(asset__isnull=True)
    return (
        MaintenanceWindow.objects.filter(site_id=site_id)
        .filter(_covering_at(at))
        .filter(scope)
        .order_by("planned_end", "pk")
    )


def window_active_covering(*, site_id: int, asset_id: int | None, at: datetime) -> MaintenanceWindow | None:
    """The window covering (site, asset) at ``at`` that lasts longest, or None."""
    return windows_covering(site_id=site_id, asset_id=asset_id, at=at).order_by("-planned_end", "pk").first()


def windows_overlapping(*, site, start: datetime, end: datetime) -> QuerySet[MaintenanceWindow]:
    """The site's windows (not cancelled) whose time overlaps [start, end), annotated with
    ``began`` and ``finished`` (actual times where known, else the planned ones; a window
    still to come or still running counts with its plan). For the monthly report: clip each
    to the month (and to now) and add up (``maintenance_seconds``) to state SLA figures
    with and without maintenance time."""
    return (
        MaintenanceWindow.objects.filter(site=site)
        .exclude(state=WindowState.CANCELLED)
        .annotate(
            began=Coalesce("actual_start", "planned_start"),
            finished=Coalesce("actual_end", "planned_end"),
        )
        .filter(began__lt=end, finished__gt=start)
        .select_related("asset", "owner", "site")
        .order_by("began", "pk")
    )


def maintenance_seconds(*, site, start: datetime, end: datetime, site_wide_only: bool = False) -> float:
    """Seconds of [start, end) inside at least one window of the site (overlaps counted once).
    ``site_wide_only``: only windows on the whole site."""
    spans = []
    for w in windows_overlapping(site=site, start=start, end=end):
        if site_wide_only and w.asset_id:
            continue
        spans.append((max(w.began, start), min(w.finished, end)))
    total, run = 0.0, None  # run: the merged span being added up
    for a, b in sorted(spans):
        if b <= a:
            continue
        if run is None or a > run[1]:
            total += (run[1] - run[0]).total_seconds() if run else 0.0
            run = (a, b)
        else:
            run = (run[0], max(run[1], b))
    total += (run[1] - run[0]).total_seconds() if run else 0.0
    return total


def active_windows_for_sites(site_ids, *, at: datetime) -> dict[int, list[MaintenanceWindow]]:
    """Each site's windows in force at ``at``: one query for all sites (the live pump calls it
    every tick)."""
    out: dict[int, list[MaintenanceWindow]] = {}
    qs = (
        MaintenanceWindow.objects.filter(site_id__in=list(site_ids))
        .filter(_covering_at(at))
        .select_related("site", "asset", "owner")
        .order_by("planned_end", "pk")
    )
    for w in qs:
        w.banner_text = w.banner(at)
        out.setdefault(w.site_id, []).append(w)
    return out


def maintenance_people(site):
    """Who may own a window or take a work order at ``site``: people with access, those
    holding a RACI role in its maintenance area first. Returns (maintenance holders, others)."""
    allowed = people_with_access(site)
    holders = Assignment.objects.filter(site=site, area=Area.MAINTENANCE)
    users = set(holders.filter(user__isnull=False).values_list("user_id", flat=True))
    users |= set(
        allowed.filter(teams__assignments__in=holders.filter(team__isnull=False)).values_list("pk", flat=True)
    )
    first = [u for u in allowed if u.pk in users]
    return first, [u for u in allowed if u.pk not in users]


def site_windows(site) -> QuerySet[MaintenanceWindow]:
    """The site's windows, each with ``held``: how many alarms it held."""
    return (
        MaintenanceWindow.objects.filter(site=site)
        .select_related("site", "asset", "owner", "created_by")
        .annotate(held=Count("alarms"))
    )


def open_windows(site) -> QuerySet[MaintenanceWindow]:
    return site_windows(site).filter(state__in=OPEN_WINDOW_STATES)


def site_log(site) -> QuerySet[LogEntry]:
    return LogEntry.objects.filter(site=site).select_related("asset", "performed_by", "work_order")


def site_work_orders(site) -> QuerySet[WorkOrder]:
    return WorkOrder.objects.filter(site=site).select_related(
        "asset", "assignee", "alarm", "incident", "action_item"
    )


def log_entries_between(*, site, start: datetime, end: datetime) -> QuerySet[LogEntry]:
    """The site's log entries for work performed in [start, end), oldest first."""
    return site_log(site).filter(performed_at__gte=start, performed_at__lt=end).order_by("performed_at", "pk")


def work_orders_between(*, site, start: datetime, end: datetime) -> QuerySet[WorkOrder]:
    """The site's work orders raised or done in [start, end)."""
    return (
        site_work_orders(site)
        .filter(Q(created_at__gte=start, created_at__lt=end) | Q(done_at__gte=start, done_at__lt=end))
        .order_by("created_at", "pk")
    )
