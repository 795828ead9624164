"""The admin as a staff member of one site sees it: with view permission on every model
and access to the pool only, no page of the admin shows anything of the school (not its
name, its alarms, tokens, assets, incidents, audit entries or report snapshots), its
objects cannot be opened, and forms offer and accept the pool only. Superusers see both."""

from __future__ import annotations

from datetime import date

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.urls import reverse

from apps.accounts.models import PersonalToken, SiteAccess
from apps.accounts.services import personal_token_issue
from apps.alarms import services as alarm_services
from apps.alarms.choices import RuleKind
from apps.alarms.models import AlarmRule, OnCall, Webhook
from apps.audit.services import audit_record
from apps.business.models import BusinessCase, CapexItem
from apps.drills.models import ChecklistItem, Drill, DrillStep
from apps.incidents.services import incident_open
from apps.ingest.models import IngestRefusal
from apps.ingest.services import ingest_token_issue
from apps.ownership.choices import Area, Raci
from apps.ownership.models import Assignment
from apps.reports.models import ReportSnapshot
from apps.simulator.models import SimulatedFault, SimulatedSite
from tests.factories import make_asset

pytestmark = pytest.mark.django_db
SECRET = "SCHOOLSECRET"  # in the name of every school object made here


def furnish(site, marker: str, person, now) -> dict:
    """One of every kind of row the admin lists, at ``site``."""
    rule = AlarmRule.objects.create(
        site=site,
        name=f"{marker} supply hot",
        kind=RuleKind.ABOVE,
        severity="major",
        domain="thermal",
        meaning=f"{marker} meaning",
        measurement="loop",
        field="supply_temp_c",
        threshold=60,
    )
    alarm = alarm_services.alarm_raise(rule=rule, value=61, detail=marker, now=now)
    token, _ = ingest_token_issue(site=site, name=f"{marker} telegraf")
    OnCall.objects.create(site=site, user=person, level=1)
    Webhook.objects.create(name=f"{marker} chat", url="https://93.184.216.34/h", secret="s", site=site)
    Assignment.objects.create(site=site, area=Area.SAFETY, role=Raci.ACCOUNTABLE, user=person)
    IngestRefusal.objects.create(site=site, at=now, batch=f"{marker}.lp", lines=2, refused=1, reason="x")
    SimulatedFault.objects.create(site=site, kind="pump-failure")
    case = BusinessCase.objects.create(site=site, start=date(2025, 1, 1), notes=f"{marker} plan")
    CapexItem.objects.create(case=case, description=f"{marker} racks", amount=1, month=date(2025, 1, 1))
    SimulatedSite.objects.create(site=site)
    ChecklistItem.objects.create(site=site, scenario="pump_stopped", expected_rule=rule, safe_state=f"{marker} safe")
    drill = Drill.objects.create(site=site, mode="manual", started_at=now, note=f"{marker} drill")
    DrillStep.objects.create(drill=drill, position=1, scenario="pump_stopped", time_limit_s=60, evidence=marker)
    audit_record(
        site=site, user=person, action="changed", obj=rule, before={}, after={}, reason=f"{marker} why"
    )
    snapshot = ReportSnapshot.objects.create(
        site=site,
        period_start=date(2025, 1, 1),
        period_end=date(2025, 2, 1),
        label=f"{marker} 2025-01",
        version=1,
        inputs={},
        figures={},
        csv="",
        pdf=b"",
    )
    return {
        "rule": rule,
        "alarm": alarm,
        "token": token,
        "asset": make_asset(site, name=f"{marker} rack"),
        "incident": incident_open(site=site, alarms=[alarm]),
        "snapshot": snapshot,
        "site": site,
    }


@pytest.fixture
def world(demo_sites, django_user_model, now):
    pam = django_user_model.objects.create_user("pam", password="x", is_staff=True)
    pam.user_permissions.set(Permission.objects.filter(codename__startswith="view_"))
    SiteAccess.objects.create(user=pam, site=demo_sites["pool"], role="admin")
    stan = django_user_model.objects.create_user("stan", is_staff=True)
    SiteAccess.objects.create(user=stan, site=demo_sites["school"], role="admin")
    personal_token_issue(user=stan, name=f"{SECRET} bot")
    return {
        "pam": pam,
        "pool": furnish(demo_sites["pool"], "POOLTHING", pam, now),
        "school": furnish(demo_sites["school"], SECRET, stan, now),
    }


def changelists():
    for model in admin.site._registry:
        yield reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")


def test_no_admin_page_shows_another_sites_data(client, world):
    client.force_login(world["pam"])
    seen = 0
    for url in changelists():
        response = client.get(url)
        assert response.status_code in (200, 403), url
        page = response.content.decode()
        assert SECRET not in page and "St Aidan" not in page, url
        prefix = world["school"]["token"].prefix
        assert prefix not in page, url
        seen += response.status_code == 200
        # and the filters of every list do not name the school either
        if response.status_code == 200 and response.context and "cl" in response.context:
            for spec in response.context["cl"].filter_specs:
                titles = " ".join(str(c.get("display")) for c in spec.choices(response.context["cl"]))
                assert "St Aidan" not in titles, (url, spec.title)
    assert seen >= 15  # the lists pam may view: almost all of them
    pool = client.get(reverse("admin:alarms_alarm_changelist")).content.decode()
    assert "POOLTHING supply hot" in pool  # her own site's rows are all there


def test_another_sites_objects_cannot_be_opened_in_the_admin(client, world):
    client.force_login(world["pam"])
    for obj in world["school"].values():
        meta = obj._meta
        for view in ("change", "history", "delete"):
            url = reverse(f"admin:{meta.app_label}_{meta.model_name}_{view}", args=[obj.pk])
            response = client.get(url, follow=True)
            page = response.content.decode()
            assert SECRET not in page and "St Aidan" not in page, url
            assert response.redirect_chain or response.status_code in (403, 404), url
    own = world["pool"]["rule"]
    assert client.get(reverse("admin:alarms_alarmrule_change", args=[own.pk])).status_code == 200


def test_forms_offer_and_accept_only_the_users_sites(client, world):
    client.force_login(world["pam"])
    url = reverse("admin:alarms_alarmrule_add")
    page = client.get(url).content.decode()
    assert "Northgate Leisure Pool" in page and "St Aidan" not in page
    form = {
        "site": world["school"]["site"].pk,
        "name": "sneaky",
        "kind": "above",
        "severity": "major",
        "domain": "thermal",
        "meaning": "m",
        "measurement": "loop",
        "field": "supply_temp_c",
        "tags": "{}",
        "threshold": "60",
        "for_seconds": "0",
        "rate_window_s": "300",
        "conditions": "[]",
        "ack_timeout_min": "15",
        "max_escalations": "3",
        "enabled": "on",
        "reason": "try",
    }
    response = client.post(url, form)
    assert response.status_code == 200 and "Select a valid choice" in response.content.decode()
    assert not AlarmRule.objects.filter(name="sneaky").exists()
    form["site"] = world["pool"]["site"].pk
    assert client.post(url, form).status_code == 302
    assert AlarmRule.objects.get(name="sneaky").site == world["pool"]["site"]

    # the alarm rule's asset is chosen through autocomplete: it offers the pool's assets only
    found = client.get(
        reverse("admin:autocomplete"),
        {"app_label": "alarms", "model_name": "alarmrule", "field_name": "asset", "term": "rack"},
    ).json()
    names = [r["text"] for r in found["results"]]
    assert "POOLTHING rack (Rack)" in names and not any(SECRET in n for n in names)


def test_personal_tokens_are_a_persons_own(client, world):
    pam = world["pam"]
    pam.user_permissions.add(
        *Permission.objects.filter(codename__in=["add_personaltoken", "change_personaltoken"])
    )
    client.force_login(pam)
    page = client.get(reverse("admin:accounts_personaltoken_add")).content.decode()
    assert ">pam<" in page and ">stan<" not in page
    stan = type(pam).objects.get(username="stan")
    response = client.post(reverse("admin:accounts_personaltoken_add"), {"user": stan.pk, "name": "theirs"})
    assert response.status_code == 200 and not PersonalToken.objects.filter(name="theirs").exists()


def test_superusers_see_every_site(admin_client, world):
    page = admin_client.get(reverse("admin:alarms_alarm_changelist")).content.decode()
    assert "POOLTHING supply hot" in page and f"{SECRET} supply hot" in page
    page = admin_client.get(reverse("admin:ingest_ingesttoken_changelist")).content.decode()
    assert world["school"]["token"].prefix in page and "St Aidan" in page
