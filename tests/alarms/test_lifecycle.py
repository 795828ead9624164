"""Alarms end to end: points in the real InfluxDB, the pump's snapshot, the database."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from django.core import mail
from django.urls import reverse

from apps.accounts.models import SiteAccess
from apps.alarms import evaluation, services
from apps.alarms.choices import AlarmState, EventKind, RuleKind
from apps.alarms.defaults import alarm_rules_create_defaults
from apps.alarms.models import Alarm, AlarmRule, OnCall, Webhook
from apps.alarms.notify import verify_signature
from apps.telemetry.influx.points import Point
from apps.telemetry.pump import TelemetryPump

pytestmark = pytest.mark.django_db


@pytest.fixture
def pool(demo_sites):
    return demo_sites["pool"]


@pytest.fixture
def flow_rule(pool):
    return AlarmRule.objects.create(
        site=pool,
        name="Flow lost",
        kind=RuleKind.BELOW,
        severity="critical",
        domain="thermal",
        meaning="Water has stopped.",
        measurement="loop",
        field="flow_m3h",
        tags={"loop": "primary"},
        threshold=1.5,
        clear_at=2.0,
        ack_timeout_min=15,
        max_escalations=2,
    )


@pytest.fixture
def people(pool, django_user_model):
    first = django_user_model.objects.create_user("first", email="first@example.org")
    second = django_user_model.objects.create_user("second", email="second@example.org")
    for user in (first, second):  # only people with access to the site are called
        SiteAccess.objects.create(user=user, site=pool)
    OnCall.objects.create(site=pool, user=first, level=1)
    OnCall.objects.create(site=pool, user=second, level=2)
    return first, second


def write_flow(influx, value: float, *, at: datetime | None = None) -> None:
    at = at or datetime.now(UTC)
    influx.write([Point("loop", {"site": "pool", "loop": "primary"}, {"flow_m3h": value}, at)])


def tick(influx, handler, *, now: datetime | None = None):
    TelemetryPump(client=influx, handlers=[handler]).tick(now=now)


def test_a_pump_failure_in_influxdb_fires_one_alarm_and_notifies_level_one(
    influx, flow_rule, people, django_capture_on_commit_callbacks
):
    handler = evaluation.AlarmEvaluation()
    write_flow(influx, 5.0)
    with django_capture_on_commit_callbacks(execute=True):
        tick(influx, handler)
    assert Alarm.objects.count() == 0

    write_flow(influx, 0.0)
    with django_capture_on_commit_callbacks(execute=True):
        tick(influx, handler)
        tick(influx, handler)  # still failing: the same alarm, no second notification
    alarm = Alarm.objects.get()
    assert (alarm.state, alarm.severity, alarm.value, alarm.occurrences) == (
        AlarmState.FIRING,
        "critical",
        0.0,
        1,
    )
    assert "Water has stopped." in alarm.message and "flow_m3h = 0" in alarm.message
    assert [m.to for m in mail.outbox] == [["first@example.org"]]
    assert "Flow lost (fired)" in mail.outbox[0].subject


def test_every_default_rule_kind_fires_on_real_telemetry(influx, pool, django_capture_on_commit_callbacks):
    rules = {r.name: r for r in alarm_rules_create_defaults(site=pool)}
    assert {r.kind for r in rules.values()} >= {
        RuleKind.ABOVE,
        RuleKind.BELOW,
        RuleKind.BAND,
        RuleKind.STALE,
        RuleKind.COMPOUND,
    }
    AlarmRule.objects.update(for_seconds=0)
    now = datetime.now(UTC)
    influx.write(
        [
            Point(
                "loop",
                {"site": "pool", "loop": "primary"},
                {"flow_m3h": 0.2, "supply_temp_c": 65.0, "delta_t_k": 20.0},
                now,
            ),
            Point("rack", {"site": "pool", "asset": "rack-a"}, {"inlet_temp_c": 47.0}, now),
            Point("consumer", {"site": "pool"}, {"online": False}, now),
        ]
    )
    with django_capture_on_commit_callbacks(execute=True):
        tick(influx, evaluation.AlarmEvaluation())
    fired = set(Alarm.objects.values_list("title", flat=True))
    assert {
        "Primary loop flow lost",
        "Loop supply too hot",
        "Rack A inlet too hot",
        "Heat consumer offline",
        "Site telemetry missing",
    } <= fired
    assert "Loop ΔT out of band" not in fired  # ΔT 20 K, but no flow: the band's condition does not hold


def test_a_flapping_value_makes_no_notification_storm(
    influx, flow_rule, people, django_capture_on_commit_callbacks
):
    handler = evaluation.AlarmEvaluation()
    with django_capture_on_commit_callbacks(execute=True):
        for value in [0.5, 1.6, 1.4, 1.9, 1.0, 1.7, 2.5, 1.2, 2.6, 0.9]:
            write_flow(influx, value)
            tick(influx, handler)
    alarm = Alarm.objects.get()  # one alarm, not one per crossing
    assert alarm.occurrences == 3  # cleared past 2.0 twice and came back
    assert len(mail.outbox) == 1
    kinds = list(alarm.events.values_list("kind", flat=True))
    assert kinds.count(EventKind.FIRED) == 1 and kinds.count(EventKind.RECURRED) == 2


def test_lifecycle_ack_clear_resolve_and_refire(
    influx, flow_rule, people, now, django_capture_on_commit_callbacks
):
    first, _ = people
    handler = evaluation.AlarmEvaluation()
    clear_for = timedelta(seconds=evaluation.RESOLVE_AFTER_S)
    with django_capture_on_commit_callbacks(execute=True):
        write_flow(influx, 0.0, at=now)
        tick(influx, handler, now=now)
        alarm = Alarm.objects.get()
        services.alarm_acknowledge(alarm=alarm, user=first, note="on my way", now=now + timedelta(seconds=5))
        write_flow(influx, 4.0, at=now + timedelta(seconds=10))
        tick(influx, handler, now=now + timedelta(seconds=10))  # condition clears: still open, marked cleared
        alarm.refresh_from_db()
        assert (alarm.state, alarm.condition_active) == (AlarmState.ACKNOWLEDGED, False)
        write_flow(influx, 4.0, at=now + timedelta(seconds=9) + clear_for)
        tick(influx, handler, now=now + timedelta(seconds=9) + clear_for)  # clear, but not for long enough
        alarm.refresh_from_db()
        assert alarm.state == AlarmState.ACKNOWLEDGED
        write_flow(influx, 4.0, at=now + timedelta(seconds=10) + clear_for)
        tick(influx, handler, now=now + timedelta(seconds=10) + clear_for)  # stayed clear long enough
        alarm.refresh_from_db()
        assert alarm.state == AlarmState.RESOLVED and alarm.resolved_by is None
        write_flow(influx, 0.0, at=now + timedelta(seconds=20) + clear_for)
        tick(influx, handler, now=now + timedelta(seconds=20) + clear_for)
    assert (
        Alarm.objects.filter(state=AlarmState.FIRING).count() == 1
    )  # a new alarm, the old one stays resolved
    kinds = list(alarm.events.values_list("kind", flat=True))
    assert [k for k in kinds if k != EventKind.NOTIFIED] == [
        EventKind.FIRED,
        EventKind.ACKNOWLEDGED,
        EventKind.CLEARED,
        EventKind.RESOLVED,
    ]
    assert kinds.count(EventKind.NOTIFIED) == 3  # fired, acknowledged, resolved
    assert alarm.events.get(kind=EventKind.ACKNOWLEDGED).user == first


def test_resolving_by_hand_needs_a_note_and_shelving_needs_a_reason(flow_rule, people):
    first, _ = people
    alarm = services.alarm_raise(rule=flow_rule, value=0.0, detail="", now=datetime.now(UTC))
    with pytest.raises(services.AlarmConflict, match="needs a note"):
        services.alarm_resolve(alarm=alarm, user=first, note=" ")
    with pytest.raises(services.AlarmConflict, match="needs a reason"):
        services.alarm_shelve(alarm=alarm, user=first, minutes=60, reason="")
    now = datetime.now(UTC)
    services.alarm_shelve(alarm=alarm, user=first, minutes=30, reason="pump being replaced", now=now)
    assert Alarm.objects.get().state == AlarmState.SHELVED
    assert services.alarm_escalate_due(now=now + timedelta(minutes=29)).unshelved == 0
    assert services.alarm_escalate_due(now=now + timedelta(minutes=30)).unshelved == 1
    assert Alarm.objects.get().state == AlarmState.FIRING
    services.alarm_resolve(alarm=alarm, user=first, note="pump replaced")
    assert Alarm.objects.get().resolution_note == "pump replaced"


def test_escalation_calls_the_next_level_on_time_and_stops_at_the_limit(
    flow_rule, people, now, django_capture_on_commit_callbacks
):
    t0 = now
    with django_capture_on_commit_callbacks(execute=True):
        services.alarm_raise(rule=flow_rule, value=0.0, detail="", now=t0)
        assert services.alarm_escalate_due(now=t0 + timedelta(minutes=14, seconds=59)).escalated == 0
        assert services.alarm_escalate_due(now=t0 + timedelta(minutes=15)).escalated == 1
        assert services.alarm_escalate_due(now=t0 + timedelta(minutes=16)).escalated == 0
        assert services.alarm_escalate_due(now=t0 + timedelta(minutes=30)).escalated == 1
        assert (
            services.alarm_escalate_due(now=t0 + timedelta(minutes=45)).escalated == 0
        )  # max_escalations = 2
    alarm = Alarm.objects.get()
    assert alarm.escalation_level == 3
    # level 3 is past the end of the on-call list: its last level is called again
    assert [m.to for m in mail.outbox] == [
        ["first@example.org"],
        ["second@example.org"],
        ["second@example.org"],
    ]
    assert "escalated" in mail.outbox[1].subject


def test_an_acknowledged_alarm_does_not_escalate(flow_rule, people, now):
    t0 = now
    alarm = services.alarm_raise(rule=flow_rule, value=0.0, detail="", now=t0)
    services.alarm_acknowledge(alarm=alarm, user=people[0], now=t0 + timedelta(minutes=5))
    assert services.alarm_escalate_due(now=t0 + timedelta(hours=2)).escalated == 0


@pytest.mark.django_db(transaction=True)
def test_two_people_acknowledging_at_once_one_wins_and_the_other_is_told_who(flow_rule, people):
    alarm = services.alarm_raise(rule=flow_rule, value=0.0, detail="", now=datetime.now(UTC))
    barrier = threading.Barrier(2)
    outcomes = {}

    def ack(user):
        from django.db import connection

        barrier.wait()
        try:
            services.alarm_acknowledge(alarm=alarm, user=user)
            outcomes[user.username] = "won"
        except services.AlarmConflict as exc:
            outcomes[user.username] = str(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=ack, args=(u,)) for u in people]
    [t.start() for t in threads]
    [t.join() for t in threads]
    winner = next(name for name, outcome in outcomes.items() if outcome == "won")
    loser = next(outcome for outcome in outcomes.values() if outcome != "won")
    assert loser.startswith(f"Already acknowledged by {winner} at ")
    assert Alarm.objects.get().acknowledged_by.username == winner
    assert Alarm.objects.get().events.filter(kind=EventKind.ACKNOWLEDGED).count() == 1


class _Receiver(BaseHTTPRequestHandler):
    received: list = []

    def do_POST(self):  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append((dict(self.headers), body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_webhooks_carry_a_verifiable_hmac_signature(
    flow_rule, people, settings, django_capture_on_commit_callbacks
):
    settings.HEATOPS_WEBHOOK_ALLOW_HOSTS = ["127.0.0.1"]  # the receiver is on loopback
    server = HTTPServer(("127.0.0.1", 0), _Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        Webhook.objects.create(
            name="chat", url=f"http://127.0.0.1:{server.server_port}/hook", secret="s3cret"
        )
        _Receiver.received = []
        with django_capture_on_commit_callbacks(execute=True):
            alarm = services.alarm_raise(rule=flow_rule, value=0.0, detail="", now=datetime.now(UTC))
            services.alarm_acknowledge(alarm=alarm, user=people[0])
    finally:
        server.shutdown()
    assert len(_Receiver.received) == 2  # fired, acknowledged: once per transition
    headers, body = _Receiver.received[0]
    data = json.loads(body)
    assert (
        data["event"] == "alarm.fired"
        and data["alarm"]["title"] == "Flow lost"
        and data["alarm"]["site"] == "pool"
    )
    assert verify_signature("s3cret", headers["X-Heatops-Timestamp"], body, headers["X-Heatops-Signature"])
    assert not verify_signature("wrong", headers["X-Heatops-Timestamp"], body, headers["X-Heatops-Signature"])
    assert not verify_signature(
        "s3cret", headers["X-Heatops-Timestamp"], body + b" ", headers["X-Heatops-Signature"]
    )
    assert json.loads(_Receiver.received[1][1])["alarm"]["acknowledged_by"] == "first"


def test_a_restarted_evaluator_neither_duplicates_nor_loses_alarms(influx, flow_rule, people):
    write_flow(influx, 0.0)
    tick(influx, evaluation.AlarmEvaluation())
    tick(influx, evaluation.AlarmEvaluation())  # a fresh process sees the same condition
    assert Alarm.objects.count() == 1
    write_flow(influx, 1.8)  # between threshold and clear level: hysteresis restored from the open alarm
    tick(influx, evaluation.AlarmEvaluation())
    assert Alarm.objects.get().condition_active is True


def test_acknowledge_from_the_page_the_api_and_in_bulk(
    client, flow_rule, pool_user, people, django_user_model
):
    from apps.accounts.services import personal_token_issue

    a1 = services.alarm_raise(rule=flow_rule, value=0.0, detail="", now=datetime.now(UTC))
    client.force_login(pool_user)
    page = client.get(reverse("alarms:alarm_list")).content.decode()
    assert "Flow lost" in page and f'hx-post="/alarms/{a1.pk}/ack/"' in page
    r = client.post(
        reverse("alarms:alarm_ack", args=[a1.pk]), headers={"HX-Request": "true", "HX-Prompt": "looking"}
    )
    assert (
        "✓ Acknowledged: Flow lost." in r.content.decode()
        and "acknowledged by <strong>estates</strong>" in r.content.decode()
    )
    again = client.post(reverse("alarms:alarm_ack", args=[a1.pk]), headers={"HX-Request": "true"})
    assert "Already acknowledged by estates at" in again.content.decode()

    services.alarm_resolve(alarm=a1, user=pool_user, note="fixed")
    a2 = services.alarm_raise(rule=flow_rule, value=0.0, detail="", now=datetime.now(UTC))
    stranger = django_user_model.objects.create_user("stranger")
    _, raw = personal_token_issue(user=stranger, name="bot")
    api = reverse("alarms:api_alarm_ack", args=[a2.pk])
    assert client.post(api, data="{}", content_type="application/json").status_code in (401, 403)
    denied = client.post(
        api, data="{}", content_type="application/json", headers={"Authorization": f"Token {raw}"}
    )
    assert denied.status_code == 404  # the stranger has no access to the pool's dashboards
    _, mine = personal_token_issue(user=pool_user, name="bot")
    ok = client.post(
        api,
        data=json.dumps({"note": "bot ack"}),
        content_type="application/json",
        headers={"Authorization": f"Token {mine}"},
    )
    assert ok.status_code == 200 and ok.json()["alarm"]["acknowledged_by"] == "estates"
    conflict = client.post(
        api, data="{}", content_type="application/json", headers={"Authorization": f"Token {mine}"}
    )
    assert conflict.status_code == 409 and "Already acknowledged by estates" in conflict.json()["error"]

    services.alarm_resolve(alarm=a2, user=pool_user, note="fixed")
    a3 = services.alarm_raise(rule=flow_rule, value=0.0, detail="", now=datetime.now(UTC))
    r = client.post(
        reverse("alarms:alarm_bulk"), {"action": "resolve", "ids": [a3.pk], "note": "bulk"}, follow=True
    )
    assert "Resolved 1 alarm(s)." in r.content.decode()
    assert Alarm.objects.get(pk=a3.pk).state == AlarmState.RESOLVED


def test_the_alarm_list_filters_and_hides_other_sites(client, demo_sites, flow_rule, pool_user):
    school_rule = AlarmRule.objects.create(
        site=demo_sites["school"],
        name="School thing",
        kind=RuleKind.STALE,
        severity="minor",
        domain="network",
        meaning="m",
        measurement="facility",
        field="it_power_kw",
        stale_after_s=60,
    )
    services.alarm_raise(rule=flow_rule, value=0.0, detail="", now=datetime.now(UTC))
    services.alarm_raise(rule=school_rule, value=None, detail="", now=datetime.now(UTC))
    client.force_login(pool_user)
    page = client.get(reverse("alarms:alarm_list")).content.decode()
    assert "Flow lost" in page and "School thing" not in page
    assert "Flow lost" not in client.get(reverse("alarms:alarm_list"), {"severity": "minor"}).content.decode()
    assert (
        "Flow lost"
        in client.get(reverse("alarms:alarm_list"), {"domain": "thermal", "sort": "site"}).content.decode()
    )


def test_a_bulk_acknowledgement_leaves_a_shelved_alarm_shelved_and_says_so(
    client, pool, flow_rule, pool_user, now
):
    shelved = services.alarm_raise(rule=flow_rule, value=0.2, detail="", now=now)
    services.alarm_shelve(alarm=shelved, user=pool_user, minutes=60, reason="pump service", now=now)
    client.force_login(pool_user)
    page = client.post(reverse("alarms:alarm_bulk"), {"action": "ack", "ids": [shelved.pk]}, follow=True)
    shelved.refresh_from_db()
    assert shelved.state == AlarmState.SHELVED and shelved.shelved_until is not None
    assert "left shelved" in page.content.decode()
