"""Every change of maintenance: windows (schedule, start early, extend, end early, cancel,
and the minute task that starts and ends them on time), log entries and work orders. Each
runs in a transaction, checks the state it expects under select_for_update, and writes an
audit entry with the values before and after and the reason."""

from __future__ import annotations

from datetime import date, datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from apps.accounts.selectors import people_with_access
from apps.alarms.choices import OPEN_STATES
from apps.alarms.models import Alarm
from apps.alarms.services import alarm_maintenance_release
from apps.assets.models import Asset
from apps.audit.services import audit_record
from apps.incidents.models import ActionItem, Incident
from apps.incidents.services import action_item_done
from apps.sites.models import Site

from .choices import WORK_ORDER_NEXT, LogKind, WindowState, WorkOrderState
from .models import LogEntry, MaintenanceWindow, WorkOrder, person
from .selectors import maintenance_people, windows_covering


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


def _check_asset(site: Site, asset: Asset | None) -> None:
    if asset is not None and asset.site_id != site.pk:
        raise ValidationError("That asset belongs to another site.")


def _check_person(site: Site, user, what: str) -> None:
    if user is None or not people_with_access(site).filter(pk=user.pk).exists():
        raise ValidationError(f"The {what} must be a person with access to {site.name}.")


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
    _check_asset(site, asset)
    _check_person(site, owner, "owner")
    window = MaintenanceWindow.objects.create(
        site=site,
        asset=asset,
        reason=reason.strip()[:200],
        owner=owner,
        planned_start=planned_start,
        planned_end=planned_end,
        created_by=user if user and user.is_authenticated else None,
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


@transaction.atomic
def window_start_early(
    *, window: MaintenanceWindow, user, reason: str, now: datetime | None = None
) -> MaintenanceWindow:
    """Start a scheduled window now, before its planned start."""
    now = now or timezone.now()
    reason = _reason(reason, "started early")
    w = _locked(window)
    if w.state != WindowState.SCHEDULED:
        raise ValidationError(f"This window is {w.get_state_display().lower()}: only a scheduled one starts.")
    if now >= w.planned_end:
        raise ValidationError("This window's planned end has passed.")
    before = _window_values(w)
    w.state, w.actual_start = WindowState.ACTIVE, now  # it covers from now (actual_start)
    w.save()
    _audit_window(w, before, user=user, action="started maintenance early", reason=reason, at=now)
    return w


@transaction.atomic
def window_extend(
    *, window: MaintenanceWindow, user, planned_end: datetime, reason: str, now: datetime | None = None
) -> MaintenanceWindow:
    """Move a scheduled or active window's end later."""
    now = now or timezone.now()
    reason = _reason(reason, "extended")
    w = _locked(window)
    if w.state not in (WindowState.SCHEDULED, WindowState.ACTIVE):
        raise ValidationError(f"This window is {w.get_state_display().lower()}: it cannot be extended.")
    if planned_end <= w.planned_end or planned_end <= now:
        raise ValidationError("Extending moves the end later than it is now.")
    before = _window_values(w)
    w.planned_end = planned_end
    w.save()
    _audit_window(w, before, user=user, action="extended maintenance", reason=reason, at=now)
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
    reason = _reason(reason, "ended early")
    w = _locked(window)
    if w.state != WindowState.ACTIVE and not (
        w.state == WindowState.SCHEDULED and w.planned_start <= now < w.planned_end
    ):
        raise ValidationError(f"This window is {w.get_state_display().lower()}: only an active one ends.")
    before = _window_values(w)
    held = _end(w, now=now)
    _audit_window(w, before, user=user, action="ended maintenance early", reason=reason, at=now)
    _release(held, window=w, now=now)
    return w


@transaction.atomic
def window_cancel(
    *, window: MaintenanceWindow, user, reason: str, now: datetime | None = None
) -> MaintenanceWindow:
    """Call off a window that has not started."""
    now = now or timezone.now()
    reason = _reason(reason, "cancelled")
    w = _locked(window)
    if w.state != WindowState.SCHEDULED or w.planned_start <= now:
        raise ValidationError("Only a window that has not started can be cancelled: end it early instead.")
    before = _window_values(w)
    w.state = WindowState.CANCELLED
    w.save()
    _audit_window(w, before, user=user, action="cancelled maintenance", reason=reason, at=now)
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


# --- the log --------------------------------------------------------------------------------


def _parse_readings(readings) -> dict[str, float]:
    if isinstance(readings, dict):
        items = readings.items()
    else:  # "name = value" per line, as the form sends them
        items = []
        for i, line in enumerate(str(readings or "").splitlines(), start=1):
            if not line.strip():
                continue
            name, sep, value = line.partition("=")
            if not sep:
                raise ValidationError(f"Reading {i}: write it as name = number (e.g. pH = 7.4).")
            items.append((name, value))
    out = {}
    for name, value in items:
        name = str(name).strip()
        try:
            number = float(str(value).strip().replace(",", "."))
        except ValueError:
            raise ValidationError(f"Reading {name!r}: {str(value).strip()!r} is not a number.") from None
        if not name:
            raise ValidationError("Each reading needs its name.")
        out[name[:60]] = number
    return out


@transaction.atomic
def log_entry_add(
    *,
    site: Site,
    kind: str,
    performed_by,
    performed_at: datetime,
    user,
    notes: str = "",
    asset: Asset | None = None,
    readings: dict | str | None = None,
    work_order: WorkOrder | None = None,
    now: datetime | None = None,
) -> LogEntry:
    """Record what was done. Readings: a dict, or "name = value" lines."""
    now = now or timezone.now()
    if kind not in LogKind.values:
        raise ValidationError("Choose what kind of work it was.")
    _check_asset(site, asset)
    _check_person(site, performed_by, "person who did it")
    if performed_at > now:
        raise ValidationError("The log records work done: its time cannot be in the future.")
    if work_order is not None and work_order.site_id != site.pk:
        raise ValidationError("That work order belongs to another site.")
    values = _parse_readings(readings)
    if not notes.strip() and not values:
        raise ValidationError("Write what was done (notes), or give a reading.")
    entry = LogEntry.objects.create(
        site=site,
        asset=asset,
        kind=kind,
        performed_by=performed_by,
        performed_at=performed_at,
        notes=notes.strip(),
        readings=values,
        work_order=work_order,
        created_by=user if user and user.is_authenticated else None,
    )
    audit_record(
        site=site,
        user=user,
        action="logged maintenance",
        obj=entry,
        after={
            "kind": kind,
            "asset": asset.slug if asset else None,
            "performed_by": performed_by.get_username(),
            "performed_at": performed_at.isoformat(),
            "notes": entry.notes,
            "readings": values,
        },
        at=now,
    )
    return entry


# --- work orders ----------------------------------------------------------------------------


def _wo_values(wo: WorkOrder) -> dict:
    return {
        "state": wo.state,
        "title": wo.title,
        "assignee": wo.assignee.get_username() if wo.assignee_id else None,
        "due": wo.due.isoformat() if wo.due else None,
        "asset": wo.asset.slug if wo.asset_id else None,
        "alarm": wo.alarm_id,
        "incident": wo.incident_id,
    }


def _check_assignee(site: Site, assignee) -> None:
    if assignee is None:
        return
    holders, _ = maintenance_people(site)
    if assignee.pk not in {u.pk for u in holders}:
        raise ValidationError(
            f"The assignee must hold a role in {site.name}'s maintenance area (RACI) and have access to the site."
        )


@transaction.atomic
def work_order_create(
    *,
    site: Site,
    title: str,
    user,
    description: str = "",
    assignee=None,
    due: date | None = None,
    asset: Asset | None = None,
    alarm: Alarm | None = None,
    incident: Incident | None = None,
    action_item: ActionItem | None = None,
    now: datetime | None = None,
) -> WorkOrder:
    now = now or timezone.now()
    if not title.strip():
        raise ValidationError("Say what is to be done.")
    _check_asset(site, asset)
    _check_assignee(site, assignee)
    if alarm is not None and alarm.site_id != site.pk:
        raise ValidationError("That alarm belongs to another site.")
    if incident is not None and incident.site_id != site.pk:
        raise ValidationError("That incident belongs to another site.")
    wo = WorkOrder.objects.create(
        site=site,
        title=title.strip()[:200],
        description=description.strip(),
        assignee=assignee,
        due=due,
        asset=asset or (alarm.asset if alarm else None),
        alarm=alarm,
        incident=incident,
        action_item=action_item,
        created_by=user if user and user.is_authenticated else None,
        created_at=now,
    )
    audit_record(site=site, user=user, action="opened work order", obj=wo, after=_wo_values(wo), at=now)
    return wo


@transaction.atomic
def work_order_from_action_item(*, action_item: ActionItem, user, now: datetime | None = None) -> WorkOrder:
    """An incident review's action item becomes a work order (once): its text, due date,
    incident, and its owner as assignee if they hold a maintenance role at the site."""
    item = (
        ActionItem.objects.select_for_update()
        .select_related("incident__site", "owner")
        .get(pk=action_item.pk)
    )
    existing = WorkOrder.objects.filter(action_item=item).first()
    if existing is not None:
        raise ValidationError(f"This action item is already {existing}.")
    site = item.incident.site
    holders, _ = maintenance_people(site)
    assignee = item.owner if item.owner_id in {u.pk for u in holders} else None
    alarm = item.incident.alarms.order_by("fired_at").first()
    return work_order_create(
        site=site,
        title=item.text,
        description=f"From the review of incident #{item.incident.pk} ({item.incident.title}); "
        f"action item owner: {person(item.owner)}.",
        user=user,
        assignee=assignee,
        due=item.due,
        alarm=alarm,
        incident=item.incident,
        action_item=item,
        now=now,
    )


@transaction.atomic
def work_order_set_state(
    *, work_order: WorkOrder, state: str, user, reason: str = "", now: datetime | None = None
) -> WorkOrder:
    now = now or timezone.now()
    wo = (
        WorkOrder.objects.select_for_update(of=("self",))
        .select_related("site", "assignee", "asset")
        .get(pk=work_order.pk)
    )
    if state not in WORK_ORDER_NEXT.get(wo.state, set()):
        label = WorkOrderState(state).label.lower() if state in WorkOrderState.values else state
        raise ValidationError(f"A work order that is {wo.get_state_display().lower()} cannot become {label}.")
    if state == WorkOrderState.CANCELLED and not reason.strip():
        raise ValidationError("Say why the work order is cancelled.")
    before = _wo_values(wo)
    wo.state = state
    wo.done_at = now if state == WorkOrderState.DONE else None
    wo.save()
    if state == WorkOrderState.DONE and wo.action_item_id:
        action_item_done(action_item_id=wo.action_item_id)
    audit_record(
        site=wo.site,
        user=user,
        action=f"work order {WorkOrderState(state).label.lower()}",
        obj=wo,
        before=before,
        after=_wo_values(wo),
        reason=reason.strip(),
        at=now,
    )
    return wo


@transaction.atomic
def work_order_assign(
    *,
    work_order: WorkOrder,
    user,
    assignee,
    due: date | None = None,
    reason: str = "",
    now: datetime | None = None,
) -> WorkOrder:
    now = now or timezone.now()
    wo = (
        WorkOrder.objects.select_for_update(of=("self",))
        .select_related("site", "assignee", "asset")
        .get(pk=work_order.pk)
    )
    _check_assignee(wo.site, assignee)
    before = _wo_values(wo)
    wo.assignee = assignee
    if due is not None:
        wo.due = due
    wo.save()
    audit_record(
        site=wo.site,
        user=user,
        action="assigned work order",
        obj=wo,
        before=before,
        after=_wo_values(wo),
        reason=reason.strip(),
        at=now,
    )
    return wo
