"""Every change of an alarm's state. Each runs in a transaction, checks the state it
expects under select_for_update, writes the history, and only on commit tells the open
dashboards and enqueues notifications (once per transition, never per tick)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import IntegrityError, transaction
from django.dispatch import Signal
from django.template.loader import render_to_string
from django.utils import timezone

from apps.telemetry.live import ALARMS_UPDATE, site_group

from .choices import OPEN_STATES, AlarmState, EventKind, Transition
from .models import Alarm, AlarmEvent, AlarmRule, OnCall, UnqueuedNotification
from .selectors import with_accountable

# Sent inside the transaction of every alarm event (fired, acknowledged, ...): incidents
# put it on their timelines and group new alarms; the alarms app needs to know nothing of them.
alarm_changed = Signal()


class AlarmConflict(Exception):
    """The alarm is no longer in the state the person acted on; the message says why."""


# --- telling the world ------------------------------------------------------------------

log = logging.getLogger(__name__)


def render_alarm(alarm: Alarm) -> str:
    return render_to_string("alarms/_alarm.html", {"alarm": with_accountable([alarm])[0]})


def _broadcast(alarm_id: int, transition: str | None) -> None:
    """Send the alarm's card to its site's group, rendered once for every socket: in place
    (its id swaps the card already shown), or, when it has just fired, also put on top of
    the site page's list (``site_html``) and of the alarm list (``list_html``)."""
    alarm = Alarm.objects.select_related("site", "rule", "acknowledged_by", "resolved_by").get(pk=alarm_id)
    card = render_alarm(alarm)
    fired = transition == Transition.FIRED

    def on_top_of(target: str) -> str:
        return render_to_string("alarms/_alarm_new.html", {"card": card, "target": target}) if fired else card

    message = {
        "type": ALARMS_UPDATE,
        "alarm_id": alarm.pk,
        "site_slug": alarm.site.slug,
        "fired": fired,
        "html": card,
        "site_html": on_top_of(f"site-alarms-{alarm.site.slug}"),
        "list_html": on_top_of("alarm-list"),
        "severity": alarm.severity,
        "domain": alarm.domain,
        "state": alarm.state,
        "in_maintenance": alarm.in_maintenance,
    }
    try:
        async_to_sync(get_channel_layer().group_send)(site_group(alarm.site_id), message)
    except Exception:  # Redis down: the pages catch up on their next load; the alarm is in the DB
        pass


def _after_commit(
    alarm: Alarm, transition: str | None, level: int | None = None, *, in_place: bool = False
) -> None:
    """``in_place``: the alarm's card is on the pages already (a page for an alarm released
    from maintenance): swap it, do not add it again."""
    from .tasks import alarm_notify_task

    def run():
        _broadcast(alarm.pk, None if in_place else transition)
        if transition and not alarm.in_maintenance:  # in maintenance: recorded, shown, not paged
            level_ = level or alarm.escalation_level
            try:
                alarm_notify_task.delay(alarm.pk, transition, level_)
            except Exception as exc:  # the broker (Redis) is down: the change stands, the page waits
                log.error(
                    "alarm %s %s: notification not queued, the Celery broker is unreachable "
                    "(kept, queued again once it answers): %s",
                    alarm.pk,
                    transition,
                    exc,
                )
                UnqueuedNotification.objects.create(
                    alarm_id=alarm.pk, transition=transition, level=level_, at=timezone.now(), error=str(exc)
                )

    transaction.on_commit(run)


def _event(alarm: Alarm, kind: str, *, at: datetime, user=None, note: str = "") -> None:
    event = AlarmEvent.objects.create(alarm=alarm, kind=kind, at=at, user=user, note=note)
    alarm_changed.send(sender=Alarm, alarm=alarm, event=event)


# --- from evaluation --------------------------------------------------------------------


def alarm_raise(*, rule: AlarmRule, value: float | None, detail: str, now: datetime) -> Alarm:
    """The rule's condition holds: fire a new alarm, or count a recurrence on the open one."""
    with transaction.atomic():
        alarm = Alarm.objects.select_for_update().filter(rule=rule, state__in=OPEN_STATES).first()
        if alarm is not None:
            if not alarm.condition_active:
                alarm.condition_active = True
                alarm.occurrences += 1
                alarm.value = value
                alarm.save(update_fields=["condition_active", "occurrences", "value", "updated_at"])
                _event(alarm, EventKind.RECURRED, at=now, note=detail)
                _after_commit(alarm, None)
            return alarm
        try:
            with transaction.atomic():
                alarm = Alarm.objects.create(
                    rule=rule,
                    site=rule.site,
                    asset=rule.asset,
                    severity=rule.severity,
                    domain=rule.domain,
                    title=rule.name,
                    message=f"{rule.meaning}\n\n{detail}".strip(),
                    value=value,
                    fired_at=now,
                    next_escalation_at=now + timedelta(minutes=rule.ack_timeout_min),
                )
        except IntegrityError:  # another evaluator fired it a moment ago
            return Alarm.objects.get(rule=rule, state__in=OPEN_STATES)
        _event(alarm, EventKind.FIRED, at=now, note=detail)
        _after_commit(alarm, Transition.FIRED, 1)
        return alarm


def alarm_condition_cleared(*, alarm_id: int, now: datetime) -> Alarm:
    with transaction.atomic():
        alarm = Alarm.objects.select_for_update().get(pk=alarm_id)
        if alarm.is_open and alarm.condition_active:
            alarm.condition_active = False
            alarm.save(update_fields=["condition_active", "updated_at"])
            _event(alarm, EventKind.CLEARED, at=now)
            _after_commit(alarm, None)
        return alarm


def alarm_auto_resolve(*, alarm_id: int, now: datetime) -> Alarm:
    """The condition has stayed clear long enough: resolve without anyone's hand."""
    with transaction.atomic():
        alarm = Alarm.objects.select_for_update().get(pk=alarm_id)
        if alarm.is_open and not alarm.condition_active:
            _resolve(alarm, now=now, user=None, note="The condition cleared and stayed clear.")
        return alarm


def _resolve(alarm: Alarm, *, now: datetime, user, note: str) -> None:
    alarm.state = AlarmState.RESOLVED
    alarm.resolved_at, alarm.resolved_by, alarm.resolution_note = now, user, note
    alarm.next_escalation_at = None
    alarm.save()
    _event(alarm, EventKind.RESOLVED, at=now, user=user, note=note)
    _after_commit(alarm, Transition.RESOLVED)


def alarm_maintenance_hold(*, alarm: Alarm, note: str, now: datetime) -> None:
    """Called in the transaction that fired ``alarm`` (by a receiver of ``alarm_changed``,
    apps/maintenance): a maintenance window covers it, so it is recorded and shown as in
    maintenance but neither pages nor escalates."""
    alarm.in_maintenance, alarm.next_escalation_at = True, None
    alarm.save(update_fields=["in_maintenance", "next_escalation_at", "updated_at"])
    _event(alarm, EventKind.NOTE, at=now, note=note)


def alarm_maintenance_release(*, alarm_id: int, note: str, now: datetime) -> Alarm:
    """The window that held the alarm has ended. Still firing: paged afresh at level 1, its
    escalation timer restarted, as if it fired now. Acknowledged or shelved: someone has it,
    so it is only marked no longer in maintenance. Safe to run twice."""
    with transaction.atomic():
        alarm = Alarm.objects.select_for_update(of=("self",)).select_related("rule").get(pk=alarm_id)
        if not alarm.in_maintenance or not alarm.is_open:
            return alarm
        alarm.in_maintenance = False
        paged = alarm.state == AlarmState.FIRING
        if paged:
            alarm.escalation_level = 1
            alarm.next_escalation_at = now + timedelta(minutes=alarm.rule.ack_timeout_min)
        alarm.save()
        _event(alarm, EventKind.NOTE, at=now, note=note + (": paged now" if paged else ""))
        _after_commit(alarm, Transition.FIRED if paged else None, 1, in_place=True)
    return alarm


# --- from people -------------------------------------------------------------------------


def _by(alarm: Alarm) -> str:
    who = alarm.acknowledged_by.get_username() if alarm.acknowledged_by else "someone"
    return f"{who} at {timezone.localtime(alarm.acknowledged_at):%H:%M:%S}"


def alarm_acknowledge(*, alarm: Alarm, user, note: str = "", now: datetime | None = None) -> Alarm:
    """Take ownership. If someone got there first, say who and when.

    The state is checked and changed under the alarm's row lock, so of two people
    acknowledging at the same moment one wins and the other waits for that, then is told
    who. On PostgreSQL that is the row lock of select_for_update; SQLite has no row locks
    (select_for_update does nothing there), and heatops opens its SQLite transactions
    IMMEDIATE (settings.SQLITE_OPTIONS), taking the database's write lock at the start,
    which serialises the same read-check-write."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = Alarm.objects.select_for_update().get(pk=alarm.pk)
        if locked.state == AlarmState.ACKNOWLEDGED:
            raise AlarmConflict(f"Already acknowledged by {_by(locked)}.")
        if locked.state not in (AlarmState.FIRING, AlarmState.SHELVED):
            raise AlarmConflict("This alarm is already resolved.")
        locked.state = AlarmState.ACKNOWLEDGED
        locked.acknowledged_by, locked.acknowledged_at = user, now
        locked.shelved_until = locked.next_escalation_at = None
        locked.save()
        _event(locked, EventKind.ACKNOWLEDGED, at=now, user=user, note=note)
        _after_commit(locked, Transition.ACKNOWLEDGED)
    return locked


def _locked_unresolved(alarm: Alarm) -> Alarm:
    locked = Alarm.objects.select_for_update().get(pk=alarm.pk)
    if locked.state == AlarmState.RESOLVED:
        raise AlarmConflict("This alarm is already resolved.")
    return locked


def alarm_resolve(*, alarm: Alarm, user, note: str, now: datetime | None = None) -> Alarm:
    if not note.strip():
        raise AlarmConflict("Say what was done: resolving by hand needs a note.")
    now = now or timezone.now()
    with transaction.atomic():
        locked = _locked_unresolved(alarm)
        _resolve(locked, now=now, user=user, note=note.strip())
    return locked


def alarm_shelve(*, alarm: Alarm, user, minutes: int, reason: str, now: datetime | None = None) -> Alarm:
    if not reason.strip():
        raise AlarmConflict("Shelving needs a reason.")
    if not 1 <= minutes <= 7 * 24 * 60:
        raise AlarmConflict("Shelve for between 1 minute and 7 days.")
    now = now or timezone.now()
    with transaction.atomic():
        locked = _locked_unresolved(alarm)
        locked.state = AlarmState.SHELVED
        locked.shelved_until, locked.shelved_reason = now + timedelta(minutes=minutes), reason.strip()
        locked.next_escalation_at = None
        locked.save()
        _event(locked, EventKind.SHELVED, at=now, user=user, note=f"{minutes} min: {reason.strip()}")
        _after_commit(locked, None)
    return locked


def alarm_note(*, alarm: Alarm, user, note: str, now: datetime | None = None) -> None:
    if note.strip():
        _event(alarm, EventKind.NOTE, at=now or timezone.now(), user=user, note=note.strip())


# --- from the clock (celery beat) --------------------------------------------------------


@dataclass
class EscalationResult:
    escalated: int = 0
    unshelved: int = 0


def on_call_add(*, site, user, level: int = 1) -> OnCall:
    """Put ``user`` on ``site``'s on-call list at ``level`` (once)."""
    entry, _ = OnCall.objects.get_or_create(site=site, user=user, level=level)
    return entry


def alarm_escalate_due(*, now: datetime | None = None) -> EscalationResult:
    """Unacknowledged past the rule's timeout: call the next level, up to the rule's limit.
    Shelving that has run out: back to firing. Safe to run twice at once."""
    now = now or timezone.now()
    result = EscalationResult()
    due = Alarm.objects.filter(
        state=AlarmState.FIRING, in_maintenance=False, next_escalation_at__lte=now
    ).values_list("pk", flat=True)
    for pk in list(due):
        with transaction.atomic():
            alarm = Alarm.objects.select_for_update(of=("self",)).select_related("rule").get(pk=pk)
            if (
                alarm.state != AlarmState.FIRING
                or alarm.in_maintenance
                or not alarm.next_escalation_at
                or alarm.next_escalation_at > now
            ):
                continue
            if alarm.escalation_level > alarm.rule.max_escalations:
                alarm.next_escalation_at = None
                alarm.save(update_fields=["next_escalation_at", "updated_at"])
                continue
            alarm.escalation_level += 1
            alarm.next_escalation_at = now + timedelta(minutes=alarm.rule.ack_timeout_min)
            alarm.save(update_fields=["escalation_level", "next_escalation_at", "updated_at"])
            _event(
                alarm,
                EventKind.ESCALATED,
                at=now,
                note=f"not acknowledged in {alarm.rule.ack_timeout_min} min: level {alarm.escalation_level} called",
            )
            _after_commit(alarm, Transition.ESCALATED, alarm.escalation_level)
            result.escalated += 1
    for pk in list(
        Alarm.objects.filter(state=AlarmState.SHELVED, shelved_until__lte=now).values_list("pk", flat=True)
    ):
        with transaction.atomic():
            alarm = Alarm.objects.select_for_update(of=("self",)).select_related("rule").get(pk=pk)
            if alarm.state != AlarmState.SHELVED or alarm.shelved_until > now:
                continue
            alarm.state, alarm.shelved_until = AlarmState.FIRING, None
            if not alarm.in_maintenance:  # held by a window: the window's end restarts it
                alarm.next_escalation_at = now + timedelta(minutes=alarm.rule.ack_timeout_min)
            alarm.save()
            _event(alarm, EventKind.UNSHELVED, at=now)
            _after_commit(alarm, None)
            result.unshelved += 1
    return result
