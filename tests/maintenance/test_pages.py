"""The maintenance page, the log and work orders, as each role; the dashboards showing a
window in force; a review's action item becoming a work order."""

from __future__ import annotations

import zoneinfo
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from apps.alarms import services as alarms
from apps.audit.models import AuditEntry
from apps.dashboard.live import current_site_payload
from apps.incidents.choices import IncidentState
from apps.incidents.models import Incident
from apps.incidents.services import incident_open, incident_review, incident_set_state
from apps.maintenance import services
from apps.maintenance.choices import WorkOrderState
from apps.maintenance.models import LogEntry, MaintenanceWindow, WorkOrder

pytestmark = pytest.mark.django_db


def local(site, dt) -> str:
    return dt.astimezone(zoneinfo.ZoneInfo(site.timezone)).strftime("%Y-%m-%dT%H:%M")


def test_estates_schedule_a_window_log_work_and_open_work_orders_managers_only_read(
    client, pool, pump, people, now
):
    url = reverse("maintenance:maintenance", args=["pool"])
    client.force_login(people["morgan"])
    assert client.get(url).status_code == 200
    assert client.post(reverse("maintenance:window_create", args=["pool"]), {}).status_code == 403

    client.force_login(people["eve"])
    page = client.get(url).content.decode()
    assert "Schedule a window" in page and "Maintenance (RACI)" in page  # eve first, as maintenance R
    start = now + timedelta(hours=2)
    response = client.post(
        reverse("maintenance:window_create", args=["pool"]),
        {
            "reason": "pump service",
            "asset": pump.pk,
            "owner": people["eve"].pk,
            "planned_start": local(pool, start),
            "planned_end": local(pool, start + timedelta(hours=2)),
        },
    )
    assert response.status_code == 302
    window = MaintenanceWindow.objects.get()
    assert (window.asset, window.owner, window.planned_start) == (
        pump,
        people["eve"],
        start.replace(second=0),
    )

    response = client.post(
        reverse("maintenance:log_entry_create", args=["pool"]),
        {
            "kind": "water_treatment",
            "asset": "",
            "performed_by": people["eve"].pk,
            "performed_at": local(pool, now - timedelta(hours=1)),
            "notes": "Dosed the secondary loop",
            "readings": "pH = 7.4\nfree chlorine mg/l = 1,2",
        },
    )
    assert response.status_code == 302
    assert LogEntry.objects.get().readings == {"pH": 7.4, "free chlorine mg/l": 1.2}

    client.post(
        reverse("maintenance:work_order_create", args=["pool"]),
        {
            "title": "Replace pump seal",
            "asset": pump.pk,
            "assignee": people["eve"].pk,
            "due": (now + timedelta(days=30)).date().isoformat(),
        },
    )
    wo = WorkOrder.objects.get()
    assert (wo.state, wo.assignee, wo.asset) == (WorkOrderState.OPEN, people["eve"], pump)
    client.post(reverse("maintenance:work_order_state", args=["pool", wo.pk]), {"state": "in_progress"})
    wo.refresh_from_db()
    assert wo.state == WorkOrderState.IN_PROGRESS
    page = client.get(url).content.decode()
    for text in ("pump service", "Water treatment", "pH 7.4", "Replace pump seal", "In progress"):
        assert text in page
    actions = set(AuditEntry.objects.filter(site=pool).values_list("action", flat=True))
    assert {
        "scheduled maintenance",
        "logged maintenance",
        "opened work order",
        "work order in progress",
    } <= actions

    client.force_login(people["morgan"])
    assert (
        client.post(
            reverse("maintenance:work_order_state", args=["pool", wo.pk]), {"state": "done"}
        ).status_code
        == 403
    )


def test_a_work_order_opened_from_an_alarms_page_is_linked_to_it(client, pool, people, pump_rule, now):
    alarm = alarms.alarm_raise(rule=pump_rule, value=0.0, detail="", now=now)
    client.force_login(people["eve"])
    page = client.get(reverse("alarms:alarm_detail", args=[alarm.pk])).content.decode()
    form_url = reverse("maintenance:maintenance", args=["pool"]) + f"?alarm={alarm.pk}"
    assert form_url in page
    assert 'value="Flow lost"' in client.get(form_url).content.decode()
    client.post(
        reverse("maintenance:work_order_create", args=["pool"]),
        {"title": "Find out why the pump stopped", "alarm": alarm.pk, "assignee": ""},
    )
    wo = WorkOrder.objects.get()
    assert (wo.alarm, wo.asset, wo.assignee) == (alarm, pump_rule.asset, None)
    assert f"WO-{wo.pk}" in client.get(reverse("alarms:alarm_detail", args=[alarm.pk])).content.decode()


def test_someone_without_access_to_the_site_gets_404(client, pool, django_user_model):
    client.force_login(django_user_model.objects.create_user("outsider"))
    assert client.get(reverse("maintenance:maintenance", args=["pool"])).status_code == 404


def test_a_work_order_goes_only_to_the_maintenance_area_and_cancelling_needs_a_reason(pool, people, now):
    with pytest.raises(ValidationError, match="maintenance area"):
        services.work_order_create(site=pool, title="x", assignee=people["sam"], user=people["eve"], now=now)
    wo = services.work_order_create(
        site=pool, title="Check valve", assignee=people["eve"], user=people["eve"], now=now
    )
    with pytest.raises(ValidationError, match="why"):
        services.work_order_set_state(
            work_order=wo, state=WorkOrderState.CANCELLED, user=people["eve"], now=now
        )
    with pytest.raises(ValidationError, match="cannot become"):
        services.work_order_set_state(work_order=wo, state="nonsense", user=people["eve"], now=now)
    services.work_order_set_state(work_order=wo, state=WorkOrderState.DONE, user=people["eve"], now=now)
    wo.refresh_from_db()
    assert wo.done_at == now


def test_a_reviewed_incidents_action_item_becomes_a_work_order_from_its_page(
    client, pool, people, pump_rule, now
):
    alarm = alarms.alarm_raise(rule=pump_rule, value=0.0, detail="", now=now)
    incident = incident_open(site=pool, alarms=[alarm], at=now)
    alarms.alarm_resolve(alarm=alarm, user=people["eve"], note="pump restarted", now=now)
    incident_set_state(incident=incident, state=IncidentState.RESOLVED, user=people["eve"], at=now)
    incident_review(
        incident=incident,
        user=people["eve"],
        cause="seal worn",
        actions=[("Replace the pump seal", people["eve"], now.date() + timedelta(days=7))],
        at=now,
    )
    item = Incident.objects.get().action_items.get()
    client.force_login(people["eve"])
    page = client.get(reverse("incidents:incident_detail", args=[incident.pk])).content.decode()
    assert "Make it a work order" in page
    client.post(reverse("maintenance:work_order_from_action_item", args=[item.pk]))
    wo = WorkOrder.objects.get()
    assert (wo.title, wo.incident, wo.alarm, wo.assignee, wo.due) == (
        "Replace the pump seal",
        incident,
        alarm,
        people["eve"],
        item.due,
    )
    with pytest.raises(ValidationError, match="already"):
        services.work_order_from_action_item(action_item=item, user=people["eve"], now=now)
    page = client.get(reverse("incidents:incident_detail", args=[incident.pk])).content.decode()
    assert f"WO-{wo.pk}" in page and "Make it a work order" not in page
    services.work_order_set_state(work_order=wo, state=WorkOrderState.DONE, user=people["eve"], now=now)
    item.refresh_from_db()
    assert item.done


def test_the_site_page_and_tile_say_plainly_that_the_site_is_in_maintenance(
    client, influx, pool, pump, people, pump_rule, now, django_capture_on_commit_callbacks
):
    services.window_schedule(
        site=pool,
        asset=pump,
        reason="pump service",
        owner=people["eve"],
        planned_start=now - timedelta(minutes=5),
        planned_end=now + timedelta(hours=1),
        user=people["eve"],
        now=now - timedelta(minutes=6),
    )
    with django_capture_on_commit_callbacks(execute=True):
        alarms.alarm_raise(rule=pump_rule, value=0.0, detail="", now=now)
    payload = current_site_payload(pool)
    for html in (payload["site_html"], payload["tile_html"]):
        assert "In maintenance until " in html and "pump service, Primary loop pump (Eve)" in html
        assert "in maintenance</span>" in html
    assert "Alarm: Flow lost (in maintenance)" in payload["tile_html"]
    client.force_login(people["morgan"])
    assert "in maintenance</span>" in client.get(reverse("alarms:alarm_list")).content.decode()
    alarm = pump_rule.alarms.get()
    with django_capture_on_commit_callbacks(execute=True):
        alarms.alarm_resolve(alarm=alarm, user=people["eve"], note="pump restarted", now=now)
    page = client.get(reverse("alarms:alarm_detail", args=[alarm.pk])).content.decode()
    assert "raised and resolved in maintenance" in page
