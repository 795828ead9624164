from datetime import UTC, datetime

import pytest
from django.urls import reverse

from apps.accounts.models import SiteAccess
from apps.alarms import services as alarm_services
from apps.alarms.choices import RuleKind
from apps.alarms.models import AlarmRule
from apps.audit.models import AuditEntry
from apps.incidents import services as incidents
from apps.ingest.services import ingest_token_issue, ingest_token_revoke
from apps.ownership.choices import Area, Raci
from apps.ownership.services import raci_replace
from apps.runbooks.library import runbooks_seed
from apps.runbooks.models import Runbook

pytestmark = pytest.mark.django_db


def test_acknowledgements_and_ownership_changes_are_audited(client, demo_sites, pool_user, django_user_model):
    pool = demo_sites["pool"]
    rule = AlarmRule.objects.create(
        site=pool,
        name="Flow lost",
        kind=RuleKind.BELOW,
        severity="critical",
        domain="thermal",
        meaning="m",
        measurement="loop",
        field="flow_m3h",
        threshold=1,
    )
    alarm = alarm_services.alarm_raise(rule=rule, value=0, detail="", now=datetime.now(UTC))
    alarm_services.alarm_acknowledge(alarm=alarm, user=pool_user, note="on my way")
    entry = AuditEntry.objects.get(action="alarm acknowledged")
    assert (entry.site, entry.user, entry.reason, entry.before, entry.after) == (
        pool,
        pool_user,
        "on my way",
        {"state": "firing"},  # what it was, not "—"
        {"state": "acknowledged"},
    )

    boss = django_user_model.objects.create_user("boss")
    SiteAccess.objects.create(user=boss, site=pool, role="admin")  # a RACI holder needs access
    grid = {
        area: {Raci.RESPONSIBLE: [f"u:{pool_user.pk}"], Raci.ACCOUNTABLE: [f"u:{boss.pk}"]}
        for area in Area.values
    }
    raci_replace(site=pool, grid=grid, user=boss, reason="new contract")
    entry = AuditEntry.objects.get(action="changed RACI")
    assert entry.reason == "new contract" and any("Accountable boss" in a for a in entry.after["assignments"])
    # the log page shows what was added and removed, not a Python list
    SiteAccess.objects.filter(user=pool_user, site=pool).update(role="admin")
    grid[Area.SAFETY][Raci.RESPONSIBLE] = [f"u:{boss.pk}"]
    raci_replace(site=pool, grid=grid, user=boss, reason="boss takes safety")
    client.force_login(pool_user)
    page = client.get(reverse("audit:audit_log", args=["pool"])).content.decode()
    assert "firing → acknowledged" in page
    assert "+ pool Safety: Responsible boss" in page and "− pool Safety: Responsible estates" in page
    assert "[&#x27;" not in page and "['" not in page


def test_incident_states_runbook_steps_and_ingest_tokens_are_in_the_audit_log(demo_sites, pool_user, now):
    pool = demo_sites["pool"]
    runbooks_seed()
    rule = AlarmRule.objects.create(
        site=pool,
        name="Flow lost",
        kind=RuleKind.BELOW,
        severity="critical",
        domain="thermal",
        meaning="m",
        measurement="loop",
        field="flow_m3h",
        threshold=1,
        runbook=Runbook.objects.get(slug="pump-failure"),
    )
    alarm = alarm_services.alarm_raise(rule=rule, value=0, detail="", now=now)
    incident = incidents.incident_open(site=pool, alarms=[alarm], user=pool_user)
    version = incident.runbooks.get()
    incidents.incident_set_state(incident=incident, state="mitigated", user=pool_user, despite_alarms=True)
    state = AuditEntry.objects.get(action="incident state")
    assert (state.before, state.after, state.user) == ({"state": "open"}, {"state": "mitigated"}, pool_user)
    assert state.reason == "While 1 alarm still fired"
    incidents.incident_step_done(incident=incident, version=version, index=0, user=pool_user)
    assert AuditEntry.objects.filter(action="runbook step done", site=pool).count() == 1
    token, raw = ingest_token_issue(site=pool, name="BMS gateway", user=pool_user)
    ingest_token_revoke(token=token, user=pool_user)
    issued = AuditEntry.objects.get(action="issued ingest token")
    assert issued.after == {"name": "BMS gateway", "prefix": token.prefix} and raw not in str(issued.after)
    assert AuditEntry.objects.get(action="revoked ingest token").after == {"state": "revoked"}


def test_a_rule_change_in_the_admin_needs_a_reason(admin_client, demo_sites):
    rule = AlarmRule.objects.create(
        site=demo_sites["pool"],
        name="Hot",
        kind=RuleKind.ABOVE,
        severity="major",
        domain="thermal",
        meaning="m",
        measurement="loop",
        field="supply_temp_c",
        threshold=60,
    )
    form = {
        "site": rule.site_id,
        "name": "Hot",
        "kind": "above",
        "severity": "major",
        "domain": "thermal",
        "enabled": "on",
        "meaning": "m",
        "measurement": "loop",
        "field": "supply_temp_c",
        "tags": "{}",
        "threshold": "58",
        "for_seconds": "0",
        "rate_window_s": "300",
        "conditions": "[]",
        "ack_timeout_min": "15",
        "max_escalations": "3",
    }
    url = reverse("admin:alarms_alarmrule_change", args=[rule.pk])
    page = admin_client.post(url, form).content.decode()
    assert "This field is required" in page
    rule.refresh_from_db()
    assert rule.threshold == 60  # nothing saved without a reason
    assert admin_client.post(url, {**form, "reason": "summer setting"}).status_code == 302
    entry = AuditEntry.objects.get(action="changed")
    assert ("threshold", 60.0, 58.0) in entry.changes and entry.reason == "summer setting"


def test_the_audit_log_is_searchable_per_site_and_cannot_be_edited(
    client, admin_client, demo_sites, pool_user
):
    from apps.audit.services import audit_record

    entry = audit_record(
        site=demo_sites["pool"],
        user=pool_user,
        action="changed",
        obj=demo_sites["pool"],
        reason="tariff 2027",
    )
    audit_record(
        site=demo_sites["school"],
        user=pool_user,
        action="changed",
        obj=demo_sites["school"],
        reason="school thing",
    )
    client.force_login(pool_user)
    page = client.get(reverse("audit:audit_log", args=["pool"]), {"q": "tariff"}).content.decode()
    assert "tariff 2027" in page and "school thing" not in page
    assert (
        "tariff"
        not in client.get(reverse("audit:audit_log", args=["pool"]), {"q": "nothing-like-it"})
        .content.decode()
        .split("<tbody>")[1]
    )
    entry.reason = "rewritten"
    with pytest.raises(ValueError, match="never changed"):
        entry.save()
    assert admin_client.get(reverse("admin:audit_auditentry_change", args=[entry.pk])).status_code in (
        200,
        403,
    )
    assert (
        admin_client.post(
            reverse("admin:audit_auditentry_change", args=[entry.pk]), {"reason": "x"}
        ).status_code
        == 403
    )
