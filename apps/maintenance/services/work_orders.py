"""Work orders: opened (from an alarm, an incident or a review's action item), assigned,
moved through their states."""

from __future__ import annotations

from datetime import date, datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from apps.alarms.models import Alarm
from apps.assets.models import Asset
from apps.audit.services import audit_record
from apps.incidents.models import ActionItem, Incident
from apps.incidents.services import action_item_done
from apps.sites.models import Site

from ..choices import WORK_ORDER_NEXT, WorkOrderState
from ..models import WorkOrder, person
from ..selectors import maintenance_people
from .checks import check_asset, check_same_site, creator


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


def _locked(work_order: WorkOrder) -> WorkOrder:
    return (
        WorkOrder.objects.select_for_update(of=("self",))
        .select_related("site", "assignee", "asset")
        .get(pk=work_order.pk)
    )


def _audit_change(wo: WorkOrder, before: dict, *, user, action: str, reason: str, at: datetime) -> None:
    """One audit entry for a change of a work order: its values before and after, and why."""
    audit_record(
        site=wo.site,
        user=user,
        action=action,
        obj=wo,
        before=before,
        after=_wo_values(wo),
        reason=reason.strip(),
        at=at,
    )


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
    check_asset(site, asset)
    _check_assignee(site, assignee)
    check_same_site(site, alarm, "alarm")
    check_same_site(site, incident, "incident")
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
        created_by=creator(user),
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
    wo = _locked(work_order)
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
    _audit_change(
        wo,
        before,
        user=user,
        action=f"work order {WorkOrderState(state).label.lower()}",
        reason=reason,
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
    wo = _locked(work_order)
    _check_assignee(wo.site, assignee)
    before = _wo_values(wo)
    wo.assignee = assignee
    if due is not None:
        wo.due = due
    wo.save()
    _audit_change(wo, before, user=user, action="assigned work order", reason=reason, at=now)
    return wo
