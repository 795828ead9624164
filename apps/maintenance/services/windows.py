"""Maintenance windows: schedule, start early, extend, end early, cancel, and the minute
task that starts and ends them on time. A window holds its alarms; its end pages what is
still open and no other window covers."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from apps.alarms.choices import OPEN_STATES
from apps.alarms.models import Alarm
from apps.alarms.services import alarm_maintenance_release
from apps.assets.models import Asset
from apps.audit.services import audit_record
from apps.sites.models import Site

from ..choices import WindowState
from ..models import MaintenanceWindow
from ..selectors import windows_covering
from .checks import check_asset, check_person, creator


def _window_values(w: MaintenanceWindow) -> dict:
    def iso(d):
        return d.isoformat() if d else None

    return {
        "state": w.state,
        "reason": w.reason,
        "asset": w.asset.slug if w.asset_id else None,
        "owner": w.owner.get_username() if w.owner_id else None,
        "planned_start": iso(w.planned_start),
        "planned_end": iso(w.planned_end),
        "actual_start": iso(w.actual_start),
        "actual_end": iso(w.actual_end),
    }


def _locked(window: MaintenanceWindow) -> MaintenanceWindow:
    return (
        MaintenanceWindow.objects.select_for_update(of=("self",))
        .select_related("site", "asset", "owner")
        .get(pk=window.pk)
    )


def _reason(reason: str, what: str) -> str:
    if not reason.strip():
        raise ValidationError(f"Say why the window is {what}: the audit log keeps it.")
    return reason.strip()


@transaction.atomic
def window_schedule(
    *,
    site: Site,
    reason: str,
    owner,
    planned_start: datetime,
    planned_end: datetime,
    user,
    asset: Asset | None = None,
    now: datetime | None = None,
) -> MaintenanceWindow:
    """Plan a window on the site or one asset. Its alarms are held from ``planned_start``."""
    now = now or timezone.now()
    if not reason.strip():
        raise ValidationError("Say what the work is (for example: pump service).")
    if planned_end <= planned_start:
        raise ValidationError("A window ends after it starts.")
    if planned_end <= now:
        raise ValidationError("That window would already be over.")
    check_asset(site, asset)
    check_person(site, owner, "owner")
    window = MaintenanceWindow.objects.create(
        site=site,
        asset=asset,
        reason=reason.strip()[:200],
        owner=owner,
        planned_start=planned_start,
        planned_end=planned_end,
        created_by=creator(user),
    )
    window = MaintenanceWindow.objects.select_related("site", "asset", "owner").get(pk=window.pk)
    audit_record(
        site=site, user=user, action="scheduled maintenance", obj=window, after=_window_values(window), at=now
    )
    return window


def _audit_window(
    w: MaintenanceWindow, before: dict, *, user, action: str, reason: str, at: datetime
) -> None:
    """One audit entry for a change of a window: its values before and after, and why."""
    audit_record(
        site=w.site,
        user=user,
        action=action,
        obj=w,
        before=before,
        after=_window_values(w),
        reason=reason,
        at=at,
    )


@contextmanager
def _changing(window: MaintenanceWindow, *, user, reason: str, what: str, action: str, now: datetime):
    """Lock the window and yield it to be checked and changed (a ValidationError raised
    inside leaves it as it was); then audit the change, with why it was ``what``."""
    reason = _reason(reason, what)
    w = _locked(window)
    before = _window_values(w)
    yield w
    _audit_window(w, before, user=user, action=action, reason=reason, at=now)


@transaction.atomic
def window_start_early(
    *, window: MaintenanceWindow, user, reason: str, now: datetime | None = None
) -> MaintenanceWindow:
    """Start a scheduled window now, before its planned start."""
    now = now or timezone.now()
    change = dict(user=user, reason=reason, what="started early", action="started maintenance early", now=now)
    with _changing(window, **change) as w:
        if w.state != WindowState.SCHEDULED:
            raise ValidationError(
                f"This window is {w.get_state_display().lower()}: only a scheduled one starts."
            )
        if now >= w.planned_end:
            raise ValidationError("This window's planned end has passed.")
        w.state, w.actual_start = WindowState.ACTIVE, now  # it covers from now (actual_start)
        w.save()
    return w


@transaction.atomic
def window_extend(
    *, window: MaintenanceWindow, user, planned_end: datetime, reason: str, now: datetime | None = None
) -> MaintenanceWindow:
    """Move a scheduled or active window's end later."""
    now = now or timezone.now()
    with _changing(
        window, user=user, reason=reason, what="extended", action="extended maintenance", now=now
    ) as w:
        if w.state not in (WindowState.SCHEDULED, WindowState.ACTIVE):
            raise ValidationError(f"This window is {w.get_state_display().lower()}: it cannot be extended.")
        if planned_end <= w.planned_end or planned_end <= now:
            raise ValidationError("Extending moves the end later than it is now.")
        w.planned_end = planned_end
        w.save()
    return w


def _end(w: MaintenanceWindow, *, now: datetime) -> list[int]:
    """Mark ``w`` ended now; return the ids of its held alarms to release."""
    w.state, w.actual_end = WindowState.ENDED, now
    if w.actual_start is None:
        w.actual_start = w.planned_start
    w.save()
    return list(w.alarms.filter(in_maintenance=True, state__in=OPEN_STATES).values_list("pk", flat=True))


def _release(alarm_ids: list[int], *, window: MaintenanceWindow, now: datetime) -> int:
    """Page the held alarms no other window still covers."""
    released = 0
    for alarm in Alarm.objects.filter(pk__in=alarm_ids):
        other = windows_covering(site_id=alarm.site_id, asset_id=alarm.asset_id, at=now).exclude(pk=window.pk)
        if other.exists():
            other.first().alarms.add(alarm)  # held on by the other window, released when it ends
            continue
        alarm_maintenance_release(
            alarm_id=alarm.pk, note=f"Maintenance window #{window.pk} ({window.reason}) ended", now=now
        )
        released += 1
    return released


@transaction.atomic
def window_end_early(
    *, window: MaintenanceWindow, user, reason: str, now: datetime | None = None
) -> MaintenanceWindow:
    """End an active window before its planned end; its alarms still open page as usual."""
    now = now or timezone.now()
    change = dict(user=user, reason=reason, what="ended early", action="ended maintenance early", now=now)
    with _changing(window, **change) as w:
        if w.state != WindowState.ACTIVE and not (
            w.state == WindowState.SCHEDULED and w.planned_start <= now < w.planned_end
        ):
            raise ValidationError(f"This window is {w.get_state_display().lower()}: only an active one ends.")
        held = _end(w, now=now)
    _release(held, window=w, now=now)
    return w


@transaction.atomic
def window_cancel(
    *, window: MaintenanceWindow, user, reason: str, now: datetime | None = None
) -> MaintenanceWindow:
    """Call off a window that has not started."""
    now = now or timezone.now()
    change = dict(user=user, reason=reason, what="cancelled", action="cancelled maintenance", now=now)
    with _changing(window, **change) as w:
        if w.state != WindowState.SCHEDULED or w.planned_start <= now:
            raise ValidationError(
                "Only a window that has not started can be cancelled: end it early instead."
            )
        w.state = WindowState.CANCELLED
        w.save()
    return w


def windows_due(*, now: datetime | None = None) -> dict[str, int]:
    """The minute task: scheduled windows whose start has come become active; active (or
    never-started) windows past their planned end end, and their alarms still open page.
    Safe to run twice at once: each window is locked and its state checked."""
    now = now or timezone.now()
    result = {"started": 0, "ended": 0, "released": 0}
    due_start = MaintenanceWindow.objects.filter(
        state=WindowState.SCHEDULED, planned_start__lte=now, planned_end__gt=now
    )
    for pk in list(due_start.values_list("pk", flat=True)):
        with transaction.atomic():
            w = _locked(MaintenanceWindow(pk=pk))
            if w.state != WindowState.SCHEDULED or w.planned_start > now or w.planned_end <= now:
                continue
            before = _window_values(w)
            w.state, w.actual_start = WindowState.ACTIVE, w.planned_start
            w.save()
            _audit_window(w, before, user=None, action="started maintenance", reason="planned start", at=now)
            result["started"] += 1
    due_end = MaintenanceWindow.objects.filter(
        state__in=[WindowState.SCHEDULED, WindowState.ACTIVE], planned_end__lte=now
    )
    for pk in list(due_end.values_list("pk", flat=True)):
        with transaction.atomic():
            w = _locked(MaintenanceWindow(pk=pk))
            if w.state not in (WindowState.SCHEDULED, WindowState.ACTIVE) or w.planned_end > now:
                continue
            before = _window_values(w)
            held = _end(w, now=now)
            w.actual_end = w.planned_end  # it ended when planned; the task merely noticed
            w.save(update_fields=["actual_end"])
            _audit_window(w, before, user=None, action="ended maintenance", reason="planned end", at=now)
            result["ended"] += 1
            result["released"] += _release(held, window=w, now=now)
    return result
