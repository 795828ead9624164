"""Sending an alarm's notifications, each once however often its task runs.

A notification is one transition of one alarm (fired, escalated to a level, acknowledged,
resolved) on one channel: the email to the level's people, or one webhook. Its key,
(alarm, transition, level, channel), is an ``AlarmNotification`` row with a unique
constraint, written before the notification goes out:

- email: the row, the email and the history entry in one transaction. A second run finds
  the row and sends nothing; a run whose email fails rolls the row back, so the retry
  sends it; a worker that dies mid-send leaves no row, so the redelivered task sends it.
- webhook: the row is written when the send is queued (a second run queues nothing) and
  marked done once the receiver takes it or it is refused; a redelivered send task finds
  it done and posts nothing. Two sends of one notification that overlap both post, with
  the same delivery id, which the receiver drops as a repeat (see ``notify``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from functools import partial

import httpx
from django.core.mail import send_mail
from django.db import transaction

from heatops.tasking import record_once

from .choices import EventKind
from .models import Alarm, AlarmEvent, AlarmNotification, UnqueuedNotification, Webhook
from .notify import body_of, delivery_id, payload, recipients, sign, webhooks_for
from .webhooks import WebhookRefused, WebhookUnresolvable, webhook_post

log = logging.getLogger(__name__)

EMAIL = "email"


def webhook_channel(webhook_id: int) -> str:
    return f"webhook:{webhook_id}"


def _alarm(alarm_id: int) -> Alarm | None:
    return Alarm.objects.select_related("site", "acknowledged_by").filter(pk=alarm_id).first()


def alarm_notify(
    *, alarm_id: int, transition: str, level: int, now: datetime, queue_webhook: Callable[[int], None]
) -> None:
    """Queue the transition's webhooks (``queue_webhook(webhook_id)``, on commit) and email
    the level's people, each unless already done for this transition and level."""
    alarm = _alarm(alarm_id)
    if alarm is None:
        return
    key = {"alarm": alarm, "transition": transition, "level": level}
    for hook in webhooks_for(alarm):
        with transaction.atomic():
            if record_once(
                AlarmNotification,
                **key,
                channel=webhook_channel(hook.pk),
                recipients=hook.name,
                created_at=now,
            ):
                transaction.on_commit(partial(queue_webhook, hook.pk))
    to = recipients(alarm, transition, level, now=now)  # a rotation: whoever is on call now
    if not to:
        return
    with transaction.atomic():
        if not record_once(
            AlarmNotification, **key, channel=EMAIL, recipients=", ".join(to), created_at=now, done_at=now
        ):
            return
        send_mail(
            subject=f"[heatops {alarm.severity}] {alarm.site.name}: {alarm.title} ({transition})",
            message=f"{alarm.message}\n\nState: {alarm.get_state_display()}. Escalation level {level}.\n"
            f"{payload(alarm, transition, level)['alarm']['url']}",
            from_email=None,
            recipient_list=to,
        )
        AlarmEvent.objects.create(
            alarm=alarm, kind=EventKind.NOTIFIED, at=now, note=f"{transition}: email to {', '.join(to)}"
        )


def _webhook_done(key: dict, *, name: str, now: datetime) -> None:
    """Mark the webhook's notification done (recording it, if it was queued unrecorded)."""
    if not AlarmNotification.objects.filter(**key, done_at__isnull=True).update(done_at=now):
        record_once(AlarmNotification, **key, recipients=name, created_at=now, done_at=now)


def alarm_webhook_send(*, alarm_id: int, transition: str, level: int, webhook_id: int, now: datetime) -> None:
    """POST the notification to the webhook, signed at ``now``, unless it is done already.
    Raises httpx errors (a failed connection, a 4xx or 5xx answer, a name that does not
    resolve): the task retries those. A URL that may not be sent to is not retried."""
    alarm = _alarm(alarm_id)
    hook = Webhook.objects.filter(pk=webhook_id, is_active=True).first()
    if alarm is None or hook is None:
        return
    key = {"alarm": alarm, "transition": transition, "level": level, "channel": webhook_channel(hook.pk)}
    if AlarmNotification.objects.filter(**key, done_at__isnull=False).exists():
        return
    delivery = delivery_id(alarm, transition, level, hook.pk)
    body = body_of(payload(alarm, transition, level, delivery=delivery))
    timestamp = str(int(now.timestamp()))  # each attempt signs afresh: retries are never "old"
    try:
        response = webhook_post(
            hook.url,
            body=body,
            timeout=10,
            headers={
                "Content-Type": "application/json",
                "X-Heatops-Timestamp": timestamp,
                "X-Heatops-Signature": sign(hook.secret, timestamp, body),
                "X-Heatops-Event": f"alarm.{transition}",
                "X-Heatops-Delivery": delivery,
            },
        )
    except WebhookUnresolvable as exc:  # DNS may answer again: retried with backoff
        raise httpx.ConnectError(str(exc)) from exc
    except WebhookRefused as exc:  # an address heatops never sends to: not retried
        log.warning("webhook %s (%s) not sent: %s", hook.pk, hook.name, exc)
        with transaction.atomic():
            AlarmEvent.objects.create(
                alarm=alarm, kind=EventKind.NOTIFIED, at=now, note=f"webhook {hook.name!r} refused: {exc}"
            )
            _webhook_done(key, name=hook.name, now=now)
        return
    response.raise_for_status()  # a 4xx/5xx is retried with backoff
    with transaction.atomic():
        _webhook_done(key, name=hook.name, now=now)


def alarm_notifications_requeue(*, queue: Callable[[int, str, int], None], limit: int = 500) -> int:
    """Queue again, oldest first, the notifications whose task could not be queued
    (``UnqueuedNotification``), each removed once queued; how many were. ``queue(alarm_id,
    transition, level)`` raises while the broker is still down: the rest stay for the next
    run. Queued twice (a removal lost), a notification is still sent once (``alarm_notify``)."""
    queued = 0
    for item in UnqueuedNotification.objects.order_by("at", "pk")[:limit]:
        queue(item.alarm_id, item.transition, item.level)
        item.delete()
        queued += 1
    return queued
