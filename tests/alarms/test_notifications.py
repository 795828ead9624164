"""A notification task run twice (Celery redelivers a task whose worker died before it
acknowledged it, CELERY_TASK_ACKS_LATE) pages nobody twice; one that failed is retried
and then pages once."""

from __future__ import annotations

import contextlib
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend
from django.db import connection
from kombu.exceptions import OperationalError

from apps.accounts.models import SiteAccess
from apps.alarms import services
from apps.alarms.choices import AlarmState, EventKind, RuleKind
from apps.alarms.models import AlarmEvent, AlarmNotification, AlarmRule, OnCall, UnqueuedNotification
from apps.alarms.tasks import alarm_notify_task, alarm_requeue_task, alarm_webhook_task
from heatops.devservices.base import free_port
from heatops.tasking import retry_delays_s, retry_span_s
from tests.mailservers import FailingOnce

pytestmark = pytest.mark.django_db


@pytest.fixture
def rule(demo_sites, django_user_model):
    pool = demo_sites["pool"]
    person = django_user_model.objects.create_user("first", email="first@example.org")
    SiteAccess.objects.create(user=person, site=pool)
    OnCall.objects.create(site=pool, user=person, level=1)
    return AlarmRule.objects.create(
        site=pool,
        name="Flow lost",
        kind=RuleKind.BELOW,
        severity="critical",
        domain="thermal",
        meaning="Water has stopped.",
        measurement="loop",
        field="flow_m3h",
        threshold=1.5,
    )


def notified(alarm) -> int:
    return AlarmEvent.objects.filter(alarm=alarm, kind=EventKind.NOTIFIED).count()


def test_a_notification_task_run_twice_sends_one_email(rule, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        alarm = services.alarm_raise(rule=rule, value=0.0, detail="", now=datetime.now(UTC))
    alarm_notify_task(alarm.pk, "fired", 1)  # redelivered
    alarm_notify_task(alarm.pk, "fired", 1)
    assert [m.to for m in mail.outbox] == [["first@example.org"]]
    assert notified(alarm) == 1
    assert AlarmNotification.objects.get(alarm=alarm).channel == "email"
    alarm_notify_task(alarm.pk, "escalated", 2)  # another transition is another notification
    assert len(mail.outbox) == 2


def test_an_email_the_mail_server_refused_is_retried_and_sent_once(rule, settings):
    alarm = services.alarm_raise(rule=rule, value=0.0, detail="", now=datetime.now(UTC))
    settings.EMAIL_BACKEND = "tests.mailservers.FailingOnce"
    FailingOnce.failed = False
    # run eagerly, a retry runs at once; throw=False: as a worker, which retries the error
    alarm_notify_task.apply(args=(alarm.pk, "fired", 1), throw=False)
    assert FailingOnce.failed
    assert [m.to for m in mail.outbox] == [["first@example.org"]]
    assert notified(alarm) == 1 and AlarmNotification.objects.filter(alarm=alarm).count() == 1


class Gated(EmailBackend):
    """Holds the first message until ``gate`` opens, as a slow mail server would."""

    gate = threading.Event()

    def send_messages(self, messages):
        assert Gated.gate.wait(30), "the test never opened the gate"
        return super().send_messages(messages)


@pytest.mark.django_db(transaction=True)
def test_two_workers_running_one_notification_at_once_send_one_email(rule, settings):
    """On PostgreSQL the second worker's insert of the same key waits for the first
    worker's transaction, then finds the key and sends nothing."""
    if connection.vendor != "postgresql":
        pytest.skip("SQLite runs one write transaction at a time: there is no overlap to test")
    alarm = services.alarm_raise(rule=rule, value=0.0, detail="", now=datetime.now(UTC))  # paged, committed
    mail.outbox = []
    settings.EMAIL_BACKEND = f"{__name__}.Gated"
    Gated.gate.clear()

    def worker():
        try:
            alarm_notify_task(alarm.pk, "escalated", 2)
        finally:
            connection.close()

    workers = [threading.Thread(target=worker) for _ in range(2)]
    [w.start() for w in workers]
    # one worker holds the key, uncommitted, in its send; the other waits on the key
    deadline = time.monotonic() + 30
    while not _a_session_waits_on_a_lock():
        assert time.monotonic() < deadline, "the second worker never waited on the first"
        time.sleep(0.05)
    Gated.gate.set()
    [w.join() for w in workers]
    assert [m.to for m in mail.outbox] == [["first@example.org"]]
    assert AlarmNotification.objects.filter(alarm=alarm, transition="escalated").count() == 1
    assert notified(alarm) == 2  # the page when it fired, and one of the two escalations


def _a_session_waits_on_a_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0] > 0


def test_the_alarm_docs_give_the_webhook_retries_as_they_are():
    """docs/alarms.md says how long a failing webhook is retried: the task's own figures."""
    delays = retry_delays_s(alarm_webhook_task)
    text = " ".join((Path(django_settings.BASE_DIR) / "docs" / "alarms.md").read_text().split())
    said = (
        f"{len(delays)} times after the first attempt, {delays[0]} s, {delays[1]} s, {delays[2]} s … "
        f"{delays[-1]} s apart: for {retry_span_s(alarm_webhook_task) / 60:g} min "
        f"({retry_span_s(alarm_webhook_task)} s) in all"
    )
    assert said in text


@contextlib.contextmanager
def broker_unreachable():
    """Celery's broker (Redis) down, as the pump and the web processes see it: tasks are
    queued for real, not run eagerly, to a port nothing listens on."""
    from heatops.celery import app

    saved = app.conf.task_always_eager, app.conf.broker_url
    app.conf.task_always_eager = False
    app.conf.broker_url = f"redis://127.0.0.1:{free_port()}/0"
    _forget_connections(app)
    try:
        yield
    finally:
        app.conf.task_always_eager, app.conf.broker_url = saved
        _forget_connections(app)


def _forget_connections(app) -> None:
    """Drop the connections made to the broker so far, as Celery does after a fork."""
    app._pool = None
    app.amqp._producer_pool = None


def test_a_page_that_could_not_be_queued_is_sent_once_the_broker_is_back(
    rule, django_capture_on_commit_callbacks
):
    with broker_unreachable():
        with django_capture_on_commit_callbacks(execute=True):
            alarm = services.alarm_raise(rule=rule, value=0.0, detail="", now=datetime.now(UTC))
        assert alarm.state == AlarmState.FIRING  # the alarm stands while its page waits
        [waiting] = UnqueuedNotification.objects.all()
        assert (waiting.alarm_id, waiting.transition, waiting.level) == (alarm.pk, "fired", 1)
        with pytest.raises(OperationalError):  # still down: the beat task's run keeps it
            alarm_requeue_task()
        assert UnqueuedNotification.objects.count() == 1
    assert mail.outbox == []
    alarm_requeue_task()  # the broker answers again
    assert [m.to for m in mail.outbox] == [["first@example.org"]]
    assert UnqueuedNotification.objects.count() == 0
    alarm_requeue_task()
    assert len(mail.outbox) == 1


def test_the_requeue_task_is_on_the_beat_schedule():
    from heatops.celery import app

    assert {e["task"] for e in app.conf.beat_schedule.values()} >= {"alarms.requeue"}
