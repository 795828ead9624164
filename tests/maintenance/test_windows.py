"""Maintenance windows against the real database, Redis (the channel layer the alarms
broadcast on) and InfluxDB: alarms in a window are recorded and shown but do not page or
escalate; when the window ends those still open page as usual."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import ValidationError

from apps.alarms import evaluation
from apps.alarms import services as alarms
from apps.alarms.choices import AlarmState, EventKind
from apps.alarms.models import Alarm
from apps.audit.models import AuditEntry
from apps.maintenance import services
from apps.maintenance.choices import WindowState
from apps.maintenance.selectors import (
    active_windows_for_sites,
    maintenance_seconds,
    window_active_covering,
    windows_overlapping,
)
from apps.telemetry.influx.points import Point
from apps.telemetry.pump import TelemetryPump

pytestmark = pytest.mark.django_db


def window_on(pool, people, now, *, asset=None, start=-10, end=60, reason="pump service"):
    return services.window_schedule(
        site=pool,
        asset=asset,
        reason=reason,
        owner=people["eve"],
        planned_start=now + timedelta(minutes=start),
        planned_end=now + timedelta(minutes=end),
        user=people["eve"],
        now=now + timedelta(minutes=min(start, 0) - 1),
    )


def test_a_pump_failure_in_a_window_is_recorded_in_maintenance_pages_nobody_and_pages_once_it_ends(
    influx, pool, pump, people, pump_rule, now, django_capture_on_commit_callbacks
):
    window = window_on(pool, people, now, asset=pump)
    influx.write([Point("loop", {"site": "pool", "loop": "primary"}, {"flow_m3h": 0.0}, now)])
    with django_capture_on_commit_callbacks(execute=True):
        TelemetryPump(client=influx, handlers=[evaluation.AlarmEvaluation()]).tick(now=now)
    alarm = Alarm.objects.get(rule=pump_rule)
    assert alarm.state == AlarmState.FIRING and alarm.in_maintenance
    assert alarm.next_escalation_at is None
    assert list(window.alarms.all()) == [alarm]
    assert "In maintenance (window" in alarm.events.get(kind=EventKind.NOTE).note
    assert mail.outbox == []

    with django_capture_on_commit_callbacks(execute=True):  # 20 min later: nobody acknowledged
        result = alarms.alarm_escalate_due(now=now + timedelta(minutes=20))
    alarm.refresh_from_db()
    assert result.escalated == 0 and alarm.escalation_level == 1 and mail.outbox == []

    ended_at = now + timedelta(minutes=25)
    with django_capture_on_commit_callbacks(execute=True):
        services.window_end_early(window=window, user=people["eve"], reason="pump back in", now=ended_at)
    alarm.refresh_from_db()
    assert not alarm.in_maintenance
    assert (alarm.escalation_level, alarm.next_escalation_at) == (1, ended_at + timedelta(minutes=15))
    assert [(m.to, "(fired)" in m.subject) for m in mail.outbox] == [(["sam@example.org"], True)]
    assert alarm.events.filter(kind=EventKind.NOTIFIED).count() == 1

    with django_capture_on_commit_callbacks(execute=True):  # and from now on it escalates as usual
        alarms.alarm_escalate_due(now=ended_at + timedelta(minutes=16))
    assert [m.to for m in mail.outbox][-1] == ["morgan@example.org"]


def test_the_minute_task_starts_a_window_on_time_and_its_end_pages_what_is_still_open(
    pool, pump, people, pump_rule, now, django_capture_on_commit_callbacks
):
    window = window_on(pool, people, now, asset=pump, start=5, end=65)
    assert services.windows_due(now=now)["started"] == 0
    assert services.windows_due(now=now + timedelta(minutes=5))["started"] == 1
    window.refresh_from_db()
    assert (window.state, window.actual_start) == (WindowState.ACTIVE, now + timedelta(minutes=5))
    with django_capture_on_commit_callbacks(execute=True):
        held = alarms.alarm_raise(rule=pump_rule, value=0.0, detail="", now=now + timedelta(minutes=10))
    assert held.in_maintenance and mail.outbox == []

    with django_capture_on_commit_callbacks(execute=True):
        result = services.windows_due(now=now + timedelta(minutes=66))
        again = services.windows_due(now=now + timedelta(minutes=66))  # twice: nothing more
    assert (result["ended"], result["released"], again["ended"]) == (1, 1, 0)
    window.refresh_from_db()
    assert (window.state, window.actual_end) == (WindowState.ENDED, now + timedelta(minutes=65))
    assert len(mail.outbox) == 1
    actions = list(AuditEntry.objects.filter(object_id=str(window.pk)).values_list("action", flat=True))
    assert set(actions) == {"scheduled maintenance", "started maintenance", "ended maintenance"}


def test_a_site_wide_window_covers_alarms_without_an_asset_and_an_asset_window_does_not(
    pool, pump, people, pump_rule, site_rule, now, django_capture_on_commit_callbacks
):
    window_on(pool, people, now, asset=pump)
    with django_capture_on_commit_callbacks(execute=True):
        site_alarm = alarms.alarm_raise(rule=site_rule, value=None, detail="", now=now)
    assert not site_alarm.in_maintenance and len(mail.outbox) == 1  # the pump's window: not the site's

    window_on(pool, people, now, reason="server swap")
    assert window_active_covering(site_id=pool.pk, asset_id=None, at=now).reason == "server swap"
    assert window_active_covering(site_id=pool.pk, asset_id=pump.pk, at=now) is not None
    other = pool.assets.exclude(pk=pump.pk).first()
    with django_capture_on_commit_callbacks(execute=True):
        alarms.alarm_resolve(alarm=site_alarm, user=people["sam"], note="fixed", now=now)
        again = alarms.alarm_raise(rule=site_rule, value=None, detail="", now=now + timedelta(minutes=1))
    assert again.in_maintenance and len(mail.outbox) == 2  # only the resolution was mailed
    assert window_active_covering(site_id=pool.pk, asset_id=other.pk, at=now) is not None  # site-wide


def test_ending_one_of_two_windows_keeps_its_alarm_held_by_the_other(
    pool, pump, people, pump_rule, now, django_capture_on_commit_callbacks
):
    short = window_on(pool, people, now, asset=pump, end=30)
    window_on(pool, people, now, reason="water treatment", end=120)
    with django_capture_on_commit_callbacks(execute=True):
        alarm = alarms.alarm_raise(rule=pump_rule, value=0.0, detail="", now=now)
        services.window_end_early(
            window=short, user=people["eve"], reason="done", now=now + timedelta(minutes=5)
        )
    alarm.refresh_from_db()
    assert alarm.in_maintenance and mail.outbox == []


def test_an_alarm_acknowledged_in_maintenance_is_released_without_a_page(
    pool, pump, people, pump_rule, now, django_capture_on_commit_callbacks
):
    window = window_on(pool, people, now, asset=pump)
    with django_capture_on_commit_callbacks(execute=True):
        alarm = alarms.alarm_raise(rule=pump_rule, value=0.0, detail="", now=now)
        alarms.alarm_acknowledge(alarm=alarm, user=people["eve"], now=now + timedelta(minutes=1))
        services.window_end_early(
            window=window, user=people["eve"], reason="done", now=now + timedelta(minutes=5)
        )
    alarm.refresh_from_db()
    assert not alarm.in_maintenance and alarm.state == AlarmState.ACKNOWLEDGED
    assert mail.outbox == []


def test_a_shelved_alarm_in_maintenance_does_not_start_escalating_when_its_shelving_runs_out(
    pool, pump, people, pump_rule, now, django_capture_on_commit_callbacks
):
    window_on(pool, people, now, asset=pump, end=240)
    with django_capture_on_commit_callbacks(execute=True):
        alarm = alarms.alarm_raise(rule=pump_rule, value=0.0, detail="", now=now)
        alarms.alarm_shelve(alarm=alarm, user=people["eve"], minutes=30, reason="on it", now=now)
        alarms.alarm_escalate_due(now=now + timedelta(minutes=31))  # back to firing
        alarms.alarm_escalate_due(now=now + timedelta(minutes=60))
    alarm.refresh_from_db()
    assert (alarm.state, alarm.next_escalation_at, alarm.escalation_level) == (AlarmState.FIRING, None, 1)
    assert mail.outbox == []


def test_start_early_extend_end_early_and_cancel_are_audited_with_before_after_and_reason(
    pool, pump, people, now
):
    window = window_on(pool, people, now, asset=pump, start=60, end=120)
    with pytest.raises(ValidationError):
        services.window_start_early(window=window, user=people["eve"], reason="", now=now)
    services.window_start_early(window=window, user=people["eve"], reason="parts arrived", now=now)
    services.window_extend(
        window=window, user=people["eve"], planned_end=now + timedelta(minutes=180), reason="seal", now=now
    )
    with pytest.raises(ValidationError):  # an active window is ended, not cancelled
        services.window_cancel(window=window, user=people["eve"], reason="x", now=now)
    services.window_end_early(
        window=window, user=people["eve"], reason="finished", now=now + timedelta(minutes=30)
    )
    entries = {e.action: e for e in AuditEntry.objects.filter(object_id=str(window.pk))}
    assert set(entries) == {
        "scheduled maintenance",
        "started maintenance early",
        "extended maintenance",
        "ended maintenance early",
    }
    extended = entries["extended maintenance"]
    assert extended.reason == "seal" and extended.user == people["eve"]
    assert dict((k, (b, a)) for k, b, a in extended.changes)["planned_end"] == (
        (now + timedelta(minutes=120)).isoformat(),
        (now + timedelta(minutes=180)).isoformat(),
    )
    assert entries["started maintenance early"].after["actual_start"] == now.isoformat()

    later = window_on(pool, people, now, start=600, end=660)
    services.window_cancel(window=later, user=people["eve"], reason="contractor ill", now=now)
    later.refresh_from_db()
    assert later.state == WindowState.CANCELLED
    assert window_active_covering(site_id=pool.pk, asset_id=None, at=now + timedelta(minutes=610)) is None


def test_a_window_needs_an_owner_with_access_and_an_asset_of_its_site(
    pool, people, demo_sites, now, django_user_model
):
    stranger = django_user_model.objects.create_user("stranger")
    with pytest.raises(ValidationError, match="access"):
        services.window_schedule(
            site=pool,
            reason="x",
            owner=stranger,
            planned_start=now,
            planned_end=now + timedelta(hours=1),
            user=people["eve"],
            now=now,
        )
    school_asset = demo_sites["school"].assets.first()
    with pytest.raises(ValidationError, match="another site"):
        services.window_schedule(
            site=pool,
            asset=school_asset,
            reason="x",
            owner=people["eve"],
            planned_start=now,
            planned_end=now + timedelta(hours=1),
            user=people["eve"],
            now=now,
        )


def test_windows_overlapping_a_month_and_the_time_they_cover(pool, pump, people, now):
    a = window_on(pool, people, now, asset=pump, start=0, end=60)
    window_on(pool, people, now, start=30, end=90, reason="server swap")
    cancelled = window_on(pool, people, now, start=200, end=260, reason="never")
    services.window_cancel(window=cancelled, user=people["eve"], reason="no", now=now)
    got = list(windows_overlapping(site=pool, start=now, end=now + timedelta(hours=4)))
    assert [w.reason for w in got] == ["pump service", "server swap"] and got[0].pk == a.pk
    assert maintenance_seconds(site=pool, start=now, end=now + timedelta(hours=4)) == 90 * 60
    assert (
        maintenance_seconds(site=pool, start=now, end=now + timedelta(hours=4), site_wide_only=True)
        == 60 * 60
    )
    assert (
        maintenance_seconds(site=pool, start=now + timedelta(minutes=80), end=now + timedelta(hours=4)) == 600
    )


def test_the_live_dashboards_get_every_sites_windows_in_one_query(
    pool, demo_sites, pump, people, now, django_assert_num_queries
):
    window_on(pool, people, now, asset=pump)
    with django_assert_num_queries(1):
        got = active_windows_for_sites([pool.pk, demo_sites["school"].pk], at=now)
    assert list(got) == [pool.pk]
    assert got[pool.pk][0].banner_text.startswith("In maintenance until ")
    assert got[pool.pk][0].banner_text.endswith(": pump service, Primary loop pump (Eve)")


def test_the_alarm_list_and_the_api_tell_an_alarm_held_by_maintenance_from_the_others(
    client, pool, pump, people, pump_rule, site_rule, now
):
    from django.urls import reverse

    from apps.accounts.services import personal_token_issue

    window_on(pool, people, now, asset=pump)
    held = alarms.alarm_raise(rule=pump_rule, value=0.0, detail="", now=now)
    other = alarms.alarm_raise(rule=site_rule, value=0.0, detail="", now=now)
    assert held.in_maintenance and not other.in_maintenance

    client.force_login(people["eve"])

    def listed(query):
        page = client.get(reverse("alarms:alarm_list") + query).content.decode()
        return {a.pk for a in (held, other) if f'id="alarm-{a.pk}"' in page}

    assert listed("") == {held.pk, other.pk}
    assert listed("?maintenance=held") == {held.pk}
    assert listed("?maintenance=not") == {other.pk}

    _, token = personal_token_issue(user=people["eve"], name="bot")
    answer = client.get(
        reverse("alarms:api_alarm_list") + "?maintenance=held", headers={"Authorization": f"Token {token}"}
    ).json()
    assert [(a["id"], a["in_maintenance"]) for a in answer["alarms"]] == [(held.pk, True)]
