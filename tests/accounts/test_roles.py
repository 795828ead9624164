"""Every URL as every role: who sees what, who may change what."""

from datetime import UTC, datetime

import pytest
from django.urls import reverse

from apps.accounts.models import SiteAccess
from apps.alarms import services as alarm_services
from apps.alarms.choices import RuleKind
from apps.alarms.models import AlarmRule
from apps.audit.models import AuditEntry
from apps.incidents.services import incident_open

pytestmark = pytest.mark.django_db
ROLES = ["estates", "devops", "manager", "admin"]


@pytest.fixture
def world(demo_sites, django_user_model):
    pool = demo_sites["pool"]
    users = {}
    for role in ROLES:
        users[role] = django_user_model.objects.create_user(role, is_staff=True)
        SiteAccess.objects.create(user=users[role], site=pool, role=role)
    users["outsider"] = django_user_model.objects.create_user("outsider")
    thermal = AlarmRule.objects.create(
        site=pool,
        name="Supply hot",
        kind=RuleKind.ABOVE,
        severity="major",
        domain="thermal",
        meaning="m",
        measurement="loop",
        field="supply_temp_c",
        threshold=60,
    )
    compute = AlarmRule.objects.create(
        site=pool,
        name="Node hot",
        kind=RuleKind.ABOVE,
        severity="major",
        domain="compute",
        meaning="m",
        measurement="node",
        field="inlet_temp_c",
        threshold=45,
    )
    alarm = alarm_services.alarm_raise(rule=thermal, value=61, detail="", now=datetime.now(UTC))
    incident = incident_open(site=pool, alarms=[alarm])
    return {
        "users": users,
        "alarm": alarm,
        "incident": incident,
        "rules": {"thermal": thermal, "compute": compute},
    }


def pages(world):
    a, i = world["alarm"].pk, world["incident"].pk
    return {
        reverse("dashboard:site", args=["pool"]): "site",
        reverse("dashboard:site_history", args=["pool"]): "site",
        reverse("dashboard:site_capacity", args=["pool"]): "site",
        reverse("alarms:alarm_detail", args=[a]): "site",
        reverse("incidents:incident_detail", args=[i]): "site",
        reverse("ownership:raci", args=["pool"]): "site",
        reverse("audit:audit_log", args=["pool"]): "site",
        reverse("maintenance:maintenance", args=["pool"]): "site",
        reverse("dashboard:portfolio"): "list",
        reverse("alarms:alarm_list"): "list",
        reverse("incidents:incident_list"): "list",
    }


@pytest.mark.parametrize("who", [None, "outsider", *ROLES])
def test_every_page_as_every_role(client, influx, world, who):
    if who:
        client.force_login(world["users"][who])
    for url, kind in pages(world).items():
        status = client.get(url).status_code
        if who is None:
            assert status == 302, url
        elif who == "outsider":
            assert status == (404 if kind == "site" else 200), url
        else:
            assert status == 200, url  # every role reads everything of its site
    if who == "outsider":
        assert "Northgate" not in client.get(reverse("dashboard:portfolio")).content.decode()


@pytest.mark.parametrize(
    ("who", "may_act", "may_own"),
    [
        ("estates", True, False),
        ("devops", True, False),
        ("manager", False, False),
        ("admin", True, True),
    ],
)
def test_changes_as_every_role(client, world, who, may_act, may_own):
    client.force_login(world["users"][who])
    a, i = world["alarm"], world["incident"]
    ack = client.post(reverse("alarms:alarm_ack", args=[a.pk]))
    assert ack.status_code == (302 if may_act else 403)
    note = client.post(reverse("incidents:incident_note", args=[i.pk]), {"text": "checked"})
    assert note.status_code == (302 if may_act else 403)
    raci = client.post(reverse("ownership:raci", args=["pool"]), {})
    assert (raci.status_code == 403) is not may_own
    htmx = client.post(
        reverse("alarms:alarm_resolve", args=[a.pk]), {"note": "x"}, headers={"HX-Request": "true"}
    )
    if not may_act:
        assert "can read alarms but not change them" in htmx.content.decode()


@pytest.mark.parametrize(
    ("who", "thermal", "compute"),
    [
        ("estates", True, False),
        ("devops", False, True),
        ("manager", False, False),
        ("admin", True, True),
    ],
)
def test_rule_editing_follows_the_role(client, world, who, thermal, compute):
    client.force_login(world["users"][who])
    for domain, allowed in (("thermal", thermal), ("compute", compute)):
        rule = world["rules"][domain]
        url = reverse("admin:alarms_alarmrule_change", args=[rule.pk])
        form = {
            "site": rule.site_id,
            "name": rule.name,
            "kind": rule.kind,
            "severity": rule.severity,
            "domain": rule.domain,
            "enabled": "on",
            "meaning": rule.meaning,
            "measurement": rule.measurement,
            "field": rule.field,
            "tags": "{}",
            "threshold": "55",
            "for_seconds": "0",
            "rate_window_s": "300",
            "conditions": "[]",
            "ack_timeout_min": "15",
            "max_escalations": "3",
            "reason": "tighter limit",
        }
        response = client.post(url, form)
        rule.refresh_from_db()
        assert (rule.threshold == 55) is allowed, (who, domain, response.status_code)
        if allowed:
            entry = AuditEntry.objects.filter(object_id=str(rule.pk), action="changed").latest("at")
            assert entry.user == world["users"][who] and entry.reason == "tighter limit"
            assert ("threshold", 60.0 if domain == "thermal" else 45.0, 55.0) in entry.changes
