"""Notification and escalation tasks. Each takes primary keys, is safe to run twice, and
runs on the 'alarms' queue so a slow report never delays a page. Retries with backoff
are set here, once."""

from __future__ import annotations

import logging
import time

import httpx
from celery import shared_task
from django.core.mail import send_mail
from django.utils import timezone

from .choices import EventKind
from .models import Alarm, AlarmEvent, Webhook
from .notify import body_of, delivery_id, payload, recipients, sign, webhooks_for
from .services import alarm_escalate_due
from .webhooks import WebhookRefused, WebhookUnresolvable, webhook_post

log = logging.getLogger(__name__)

RETRY = {"autoretry_for": (httpx.HTTPError,), "retry_backoff": 2, "retry_backoff_max": 300, "max_retries": 8}


@shared_task(name="alarms.notify", ignore_result=True)
def alarm_notify_task(alarm_id: int, transition: str, level: int) -> None:
    alarm = Alarm.objects.select_related("site", "acknowledged_by").filter(pk=alarm_id).first()
    if alarm is None:
        return
    to = recipients(alarm, transition, level)
    if to:
        send_mail(
            subject=f"[heatops {alarm.severity}] {alarm.site.name}: {alarm.title} ({transition})",
            message=f"{alarm.message}\n\nState: {alarm.get_state_display()}. Escalation level {level}.\n"
            f"{payload(alarm, transition, level)['alarm']['url']}",
            from_email=None,
            recipient_list=to,
        )
        AlarmEvent.objects.create(
            alarm=alarm,
            kind=EventKind.NOTIFIED,
            at=timezone.now(),
            note=f"{transition}: email to {', '.join(to)}",
        )
    for hook in webhooks_for(alarm):
        alarm_webhook_task.delay(alarm_id, transition, level, hook.pk)


@shared_task(name="alarms.webhook", ignore_result=True, **RETRY)
def alarm_webhook_task(alarm_id: int, transition: str, level: int, webhook_id: int) -> None:
    alarm = Alarm.objects.select_related("site", "acknowledged_by").filter(pk=alarm_id).first()
    hook = Webhook.objects.filter(pk=webhook_id, is_active=True).first()
    if alarm is None or hook is None:
        return
    delivery = delivery_id(alarm, transition, level, hook.pk)
    body = body_of(payload(alarm, transition, level, delivery=delivery))
    timestamp = str(int(time.time()))  # each attempt signs afresh: retries are never "old"
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
        AlarmEvent.objects.create(
            alarm=alarm,
            kind=EventKind.NOTIFIED,
            at=timezone.now(),
            note=f"webhook {hook.name!r} refused: {exc}",
        )
        return
    response.raise_for_status()  # a 4xx/5xx is retried with backoff


@shared_task(name="alarms.escalate", ignore_result=True)
def alarm_escalate_task() -> None:
    alarm_escalate_due()
