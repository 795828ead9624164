"""Notification and escalation tasks: thin, each takes primary keys and calls a service,
and is safe to run twice (``delivery``). They run on the 'alarms' queue
(``CELERY_TASK_ROUTES``), whose worker prints no reports, so a slow report never delays a
page. Retries with backoff come from ``heatops.tasking``."""

from __future__ import annotations

import smtplib

import httpx
from django.utils import timezone

from heatops.tasking import task

from .delivery import alarm_notifications_requeue, alarm_notify, alarm_webhook_send
from .services import alarm_escalate_due


@task("alarms.notify", retry_on=(smtplib.SMTPException, OSError))
def alarm_notify_task(alarm_id: int, transition: str, level: int) -> None:
    alarm_notify(
        alarm_id=alarm_id,
        transition=transition,
        level=level,
        now=timezone.now(),
        queue_webhook=lambda webhook_id: alarm_webhook_task.delay(alarm_id, transition, level, webhook_id),
    )


@task("alarms.webhook", retry_on=(httpx.HTTPError,))
def alarm_webhook_task(alarm_id: int, transition: str, level: int, webhook_id: int) -> None:
    alarm_webhook_send(
        alarm_id=alarm_id, transition=transition, level=level, webhook_id=webhook_id, now=timezone.now()
    )


@task("alarms.escalate")
def alarm_escalate_task() -> None:
    alarm_escalate_due()


@task("alarms.requeue")
def alarm_requeue_task() -> None:
    """Notifications that could not be queued while the broker was down, queued now."""
    alarm_notifications_requeue(queue=lambda *key: alarm_notify_task.delay(*key))
