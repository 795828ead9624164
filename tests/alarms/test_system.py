"""Alarms heatops raises about itself: InfluxDB unreachable for too long."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail

from apps.accounts.choices import Role
from apps.accounts.models import SiteAccess
from apps.alarms.choices import AlarmState, Severity
from apps.alarms.models import Alarm
from apps.alarms.system import INFLUX_UNREACHABLE, InfluxWatch
from apps.ownership.choices import Area, Raci
from apps.ownership.models import Assignment
from apps.telemetry.influx.client import InfluxClient
from apps.telemetry.pump import TelemetryPump
from heatops.devservices.base import free_port

pytestmark = pytest.mark.django_db


def test_influxdb_unreachable_too_long_pages_every_site_and_resolves_itself(
    demo_sites, influx, now, settings, django_user_model, django_capture_on_commit_callbacks
):
    settings.HEATOPS_INFLUX_DOWN_ALARM_S = 60
    oncall = django_user_model.objects.create_user("oncall", email="oncall@example.org")
    for site in demo_sites.values():
        SiteAccess.objects.create(user=oncall, site=site, role=Role.DEVOPS)
        Assignment.objects.filter(site=site, area=Area.ALARM_RESPONSE, role=Raci.RESPONSIBLE).delete()
        Assignment.objects.create(site=site, area=Area.ALARM_RESPONSE, role=Raci.RESPONSIBLE, user=oncall)
    watch = InfluxWatch()
    dead = InfluxClient(url=f"http://127.0.0.1:{free_port()}", database="heatops", timeout=0.5)
    down = TelemetryPump(client=dead, handlers=[watch])

    down.tick(now=now)
    down.tick(now=now + timedelta(seconds=59))
    assert not Alarm.objects.filter(rule__name=INFLUX_UNREACHABLE.name).exists()  # a blip is not an alarm

    with django_capture_on_commit_callbacks(execute=True):
        down.tick(now=now + timedelta(seconds=61))
        down.tick(now=now + timedelta(seconds=90))  # once, not every tick
    alarms = Alarm.objects.filter(rule__name=INFLUX_UNREACHABLE.name)
    assert sorted(a.site.slug for a in alarms) == sorted(demo_sites)
    assert {(a.severity, a.state) for a in alarms} == {(Severity.CRITICAL, AlarmState.FIRING)}
    assert "No answer from InfluxDB for 61 s" in alarms[0].message
    assert {m.to[0] for m in mail.outbox} == {"oncall@example.org"}

    up = TelemetryPump(client=influx, handlers=[watch])
    up.tick(now=now + timedelta(seconds=120))
    assert set(Alarm.objects.filter(rule__name=INFLUX_UNREACHABLE.name).values_list("state", flat=True)) == {
        AlarmState.RESOLVED
    }


def test_a_restarted_pump_resolves_an_unreachable_alarm_left_open(demo_sites, influx, now, settings):
    settings.HEATOPS_INFLUX_DOWN_ALARM_S = 0
    dead = InfluxClient(url=f"http://127.0.0.1:{free_port()}", database="heatops", timeout=0.5)
    TelemetryPump(client=dead, handlers=[InfluxWatch()]).tick(now=now)
    assert Alarm.objects.filter(rule__name=INFLUX_UNREACHABLE.name, state=AlarmState.FIRING).count() == 2
    TelemetryPump(client=influx, handlers=[InfluxWatch()]).tick(now=now + timedelta(seconds=5))
    assert not Alarm.objects.filter(rule__name=INFLUX_UNREACHABLE.name, state=AlarmState.FIRING).exists()
