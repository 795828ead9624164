"""Webhooks never reach into heatops' own network (SSRF): a URL on a loopback, link-local,
private or otherwise non-public address, or on a port other than the web's, is refused
when saved and again, after DNS, when sent, before any connection, unless an
administrator allowed the host. Nothing here sends traffic anywhere but loopback: the
public addresses below are IP literals, which resolve without DNS and are never sent to."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from apps.alarms import services
from apps.alarms.choices import RuleKind
from apps.alarms.models import AlarmEvent, AlarmNotification, AlarmRule, Webhook
from apps.alarms.notify import sign, verify_signature
from apps.alarms.tasks import alarm_notify_task, alarm_webhook_task

pytestmark = pytest.mark.django_db


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.received.append((dict(self.headers), body))
        failing = self.server.failures > 0
        self.server.failures -= failing
        self.send_response(500 if failing else 204)
        self.end_headers()

    def log_message(self, *args):
        pass


class Receiver(ThreadingHTTPServer):
    """A webhook receiver on loopback that counts every connection made to it, and answers
    500 to the first ``failures`` requests."""

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.failures = 0
        self.connections = 0
        self.received: list[tuple[dict, bytes]] = []

    def get_request(self):
        request = super().get_request()
        self.connections += 1
        return request


@pytest.fixture
def receiver():
    server = Receiver()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def rule(demo_sites):
    return AlarmRule.objects.create(
        site=demo_sites["pool"],
        name="Flow lost",
        kind=RuleKind.BELOW,
        severity="critical",
        domain="thermal",
        meaning="Water has stopped.",
        measurement="loop",
        field="flow_m3h",
        threshold=1.5,
    )


def fire(rule, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return services.alarm_raise(rule=rule, value=0.0, detail="", now=datetime.now(UTC))


@pytest.mark.parametrize(
    "url, reason",
    [
        ("http://127.0.0.1:8086/query?q=DROP+DATABASE+heatops", "loopback"),
        ("http://localhost/hook", "loopback"),
        ("http://[::1]/hook", "loopback"),
        ("http://[::ffff:127.0.0.1]/hook", "loopback"),
        ("http://127.0.0.1:6379/", "loopback"),
        ("http://169.254.169.254/latest/meta-data/", "link-local"),
        ("http://10.1.2.3/hook", "private"),
        ("http://172.16.5.4/hook", "private"),
        ("http://192.168.0.10/hook", "private"),
        ("http://[fd00::1]/hook", "private"),
        ("http://100.64.0.1/hook", "not a public address"),
        ("http://0.0.0.0/hook", "unspecified"),
        ("http://224.0.0.1/hook", "multicast"),
        ("http://240.0.0.1/hook", "reserved"),
        ("http://93.184.216.34:6379/", "Port 6379 is not allowed"),
        ("http://93.184.216.34:8086/query", "Port 8086 is not allowed"),
        ("ftp://93.184.216.34/hook", "http or https only"),
    ],
)
def test_a_url_into_heatops_own_network_is_refused_when_saved(url, reason):
    hook = Webhook(name="chat", url=url, secret="s3cret")
    with pytest.raises(ValidationError) as info:
        hook.full_clean()
    assert reason in " ".join(info.value.message_dict["url"])


def test_public_addresses_on_web_ports_and_allowed_hosts_are_accepted(settings):
    for url in ("https://93.184.216.34/hook", "http://93.184.216.34:80/hook", "https://[2606:4700::1]/h"):
        Webhook(name="chat", url=url, secret="s3cret").full_clean()
    settings.HEATOPS_WEBHOOK_ALLOW_HOSTS = ["chat-bridge.lan", "127.0.0.1"]
    Webhook(name="bridge", url="http://127.0.0.1:8065/hooks/x", secret="s3cret").full_clean()


def test_the_admin_says_why_and_saves_nothing(admin_client):
    response = admin_client.post(
        reverse("admin:alarms_webhook_add"),
        {
            "name": "influx",
            "url": "http://127.0.0.1:8086/query?q=SHOW+DATABASES",
            "secret": "x",
            "is_active": "on",
        },
    )
    assert response.status_code == 200
    assert "loopback" in response.content.decode()
    assert not Webhook.objects.exists()


def test_a_hook_stored_earlier_is_refused_at_send_before_any_connection(
    rule, receiver, django_capture_on_commit_callbacks
):
    """Rows saved before the check existed, or whose name now resolves elsewhere, are
    checked again when sent: nothing connects, and the alarm's history says why."""
    Webhook.objects.create(name="local", url=f"http://127.0.0.1:{receiver.server_port}/hook", secret="s")
    Webhook.objects.create(name="by name", url=f"http://localhost:{receiver.server_port}/hook", secret="s")
    alarm = fire(rule, django_capture_on_commit_callbacks)
    assert receiver.connections == 0 and receiver.received == []
    notes = list(
        AlarmEvent.objects.filter(alarm=alarm, note__contains="refused").values_list("note", flat=True)
    )
    assert len(notes) == 2 and all("loopback" in n for n in notes)


def test_an_allowed_host_receives_it_at_the_address_checked_with_its_own_host_name(
    rule, receiver, settings, django_capture_on_commit_callbacks
):
    settings.HEATOPS_WEBHOOK_ALLOW_HOSTS = ["localhost"]
    Webhook.objects.create(
        name="bridge", url=f"http://localhost:{receiver.server_port}/hook", secret="s3cret"
    )
    fire(rule, django_capture_on_commit_callbacks)
    assert len(receiver.received) == 1
    headers, body = receiver.received[0]
    assert headers["Host"] == f"localhost:{receiver.server_port}"
    assert json.loads(body)["event"] == "alarm.fired"
    assert verify_signature("s3cret", headers["X-Heatops-Timestamp"], body, headers["X-Heatops-Signature"])


def test_every_attempt_at_one_notification_carries_the_same_delivery_id(
    rule, receiver, settings, django_capture_on_commit_callbacks
):
    """A retry sends the same id, in a header and in the signed body, so the receiver can
    drop repeats; another notification has another id."""
    settings.HEATOPS_WEBHOOK_ALLOW_HOSTS = ["127.0.0.1"]
    alarm = fire(rule, django_capture_on_commit_callbacks)
    hook = Webhook.objects.create(name="bridge", url=f"http://127.0.0.1:{receiver.server_port}/h", secret="s")
    receiver.failures = 1  # the first attempt is answered 500, and retried (at once, run eagerly)
    alarm_webhook_task.apply(args=(alarm.pk, "fired", 1, hook.pk), throw=False)
    with django_capture_on_commit_callbacks(execute=True):
        services.alarm_acknowledge(alarm=alarm, user=None)
    ids = [(h["X-Heatops-Delivery"], json.loads(b)["delivery"]) for h, b in receiver.received]
    assert [header == body for header, body in ids] == [True, True, True]
    assert ids[0] == ids[1] and ids[2] != ids[0]


def test_a_notification_task_run_twice_posts_each_webhook_once(
    rule, receiver, settings, django_capture_on_commit_callbacks
):
    """A redelivered task (the worker died after sending, before Celery heard it finished)
    posts nothing again, whether it is the notification or the webhook's send."""
    settings.HEATOPS_WEBHOOK_ALLOW_HOSTS = ["127.0.0.1"]
    hook = Webhook.objects.create(name="bridge", url=f"http://127.0.0.1:{receiver.server_port}/h", secret="s")
    alarm = fire(rule, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        alarm_notify_task(alarm.pk, "fired", 1)
    alarm_webhook_task(alarm.pk, "fired", 1, hook.pk)
    assert len(receiver.received) == 1
    assert AlarmNotification.objects.get(alarm=alarm, channel=f"webhook:{hook.pk}").done_at is not None


def test_a_receiver_refuses_a_signature_older_than_five_minutes():
    body, sent_at = b'{"event":"alarm.fired"}', 1_900_000_000
    signature = sign("s3cret", str(sent_at), body)
    assert verify_signature("s3cret", str(sent_at), body, signature, now=sent_at + 299)
    assert not verify_signature("s3cret", str(sent_at), body, signature, now=sent_at + 301)
    assert not verify_signature("s3cret", str(sent_at), body, signature, now=sent_at - 301)
    assert not verify_signature("s3cret", "soon", body, signature, now=sent_at)
