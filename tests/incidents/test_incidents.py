from datetime import datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.html import escape

from apps.alarms import services as alarms
from apps.alarms.choices import RuleKind
from apps.alarms.models import AlarmRule
from apps.incidents import services
from apps.incidents.choices import IncidentState, TimelineKind
from apps.incidents.models import Incident
from apps.runbooks.choices import PriorityClass
from apps.runbooks.library import runbooks_seed
from apps.runbooks.models import Runbook, RunbookVersion

pytestmark = pytest.mark.django_db


@pytest.fixture
def t0(now) -> datetime:
    """When the first alarm fires: yesterday, so the review a day later is today."""
    return now - timedelta(days=1)


@pytest.fixture
def rules(demo_sites):
    runbooks_seed()
    pool = demo_sites["pool"]

    def rule(name, domain, severity, hint):
        return AlarmRule.objects.create(
            site=pool,
            name=name,
            kind=RuleKind.ABOVE,
            severity=severity,
            domain=domain,
            meaning=name,
            measurement="facility",
            field="it_power_kw",
            threshold=1,
            runbook=Runbook.objects.get(slug=hint),
        )

    return {
        "throttle": rule("Compute throttled", "compute", "major", "overheating"),
        "pump": rule("Primary loop flow lost", "thermal", "critical", "pump-failure"),
        "meter": rule("Heat meter silent", "thermal", "minor", "loss-of-network"),
    }


def test_a_pump_failure_and_a_compute_throttle_become_one_incident(rules, demo_sites, t0):
    pump = alarms.alarm_raise(rule=rules["pump"], value=0, detail="", now=t0)
    assert Incident.objects.count() == 0  # one alarm alone is not an incident
    throttle = alarms.alarm_raise(rule=rules["throttle"], value=0, detail="", now=t0 + timedelta(minutes=4))
    incident = Incident.objects.get()
    assert set(incident.alarms.all()) == {pump, throttle}
    assert incident.priority_class == PriorityClass.PLANT  # a critical thermal alarm: protect the plant
    assert "heat delivery at risk" in incident.impact and "compute degraded" in incident.impact
    assert {v.runbook.slug for v in incident.runbooks.all()} == {"pump-failure", "overheating"}
    later = alarms.alarm_raise(rule=rules["meter"], value=0, detail="", now=t0 + timedelta(minutes=6))
    assert later in incident.alarms.all()  # the site's open incident takes new alarms


def test_alarms_far_apart_or_of_one_domain_do_not_group(rules, t0):
    alarms.alarm_raise(rule=rules["pump"], value=0, detail="", now=t0)
    alarms.alarm_raise(rule=rules["meter"], value=0, detail="", now=t0 + timedelta(minutes=1))  # same domain
    alarms.alarm_raise(rule=rules["throttle"], value=0, detail="", now=t0 + timedelta(minutes=40))  # too late
    assert Incident.objects.count() == 0


def test_the_timeline_holds_every_event_in_order(rules, demo_sites, django_user_model, t0):
    op = django_user_model.objects.create_user("op")
    pump = alarms.alarm_raise(rule=rules["pump"], value=0, detail="", now=t0)
    alarms.alarm_raise(rule=rules["throttle"], value=0, detail="", now=t0 + timedelta(minutes=2))
    incident = Incident.objects.get()
    alarms.alarm_acknowledge(alarm=pump, user=op, note="pump tripped", now=t0 + timedelta(minutes=3))
    version = incident.runbooks.get(runbook__slug="pump-failure")
    services.incident_step_done(
        incident=incident, version=version, index=0, user=op, at=t0 + timedelta(minutes=4)
    )
    services.incident_note(
        incident=incident, user=op, text="restarted the pump", at=t0 + timedelta(minutes=5)
    )
    with pytest.raises(ValidationError, match="2 of this incident's alarms still fire"):
        services.incident_set_state(incident=incident, state=IncidentState.MITIGATED, user=op)
    services.incident_set_state(
        incident=incident,
        state=IncidentState.MITIGATED,
        user=op,
        despite_alarms=True,  # compute throttled: contained, though the pump is still down
        at=t0 + timedelta(minutes=6),
    )
    alarms.alarm_resolve(alarm=pump, user=op, note="flow back", now=t0 + timedelta(minutes=7))
    services.incident_set_state(
        incident=incident,
        state=IncidentState.RESOLVED,
        user=op,
        despite_alarms=True,
        at=t0 + timedelta(minutes=20),
    )

    kinds = list(incident.timeline.values_list("kind", flat=True))
    assert kinds[0] == TimelineKind.ALARM and TimelineKind.OPENED in kinds
    texts = [e.text for e in incident.timeline.all()]
    assert "Mitigated by op, while 2 alarms still fired" in texts
    assert "Resolved by op, while 1 alarm still fired" in texts
    assert any("Primary loop flow lost: acknowledged (pump tripped)" == t for t in texts)
    assert any("step 1 done: Check the primary pump" in t for t in texts)
    assert "restarted the pump" in texts and any(
        "Primary loop flow lost: resolved (flow back)" == t for t in texts
    )
    times = list(incident.timeline.values_list("at", flat=True))
    assert times == sorted(times)

    with pytest.raises(ValidationError, match="Say what caused it"):
        services.incident_review(incident=incident, user=op, cause="", actions=[])
    services.incident_review(
        incident=incident,
        user=op,
        cause="pump bearing seized",
        actions=[("Replace the pump bearings", op, (t0 + timedelta(days=10)).date())],
        at=t0 + timedelta(days=1),
    )
    incident.refresh_from_db()
    assert incident.state == IncidentState.REVIEWED
    times = services.incident_times(incident)
    assert (times["mtta_min"], times["mttr_min"]) == (3.0, 20.0)
    assert (times["mtta_text"], times["mttr_text"]) == (
        "3 min over 1 of 2 alarms; 1 never acknowledged",
        "20 min",
    )


def test_runbooks_are_versioned_and_an_incident_keeps_its_version(rules, t0):
    alarms.alarm_raise(rule=rules["pump"], value=0, detail="", now=t0)
    alarms.alarm_raise(rule=rules["throttle"], value=0, detail="", now=t0 + timedelta(minutes=1))
    incident = Incident.objects.get()
    used = incident.runbooks.get(runbook__slug="pump-failure")
    runbook = used.runbook
    RunbookVersion.objects.create(
        runbook=runbook, number=2, safe_state="new", steps=[{"text": "new step", "role": "R"}]
    )
    assert runbook.current.number == 2
    assert incident.runbooks.get(runbook=runbook).number == 1
    used.safe_state = "edited"
    with pytest.raises(ValidationError, match="never changed"):
        used.save()


def test_the_incident_page_shows_it_to_people_of_the_site_only(
    client, rules, pool_user, demo_sites, django_user_model, t0
):
    alarms.alarm_raise(rule=rules["pump"], value=0, detail="", now=t0)
    alarms.alarm_raise(rule=rules["throttle"], value=0, detail="", now=t0 + timedelta(minutes=1))
    incident = Incident.objects.get()
    url = reverse("incidents:incident_detail", args=[incident.pk])
    assert client.get(url).status_code == 302
    client.force_login(django_user_model.objects.create_user("stranger"))
    assert client.get(url).status_code == 404
    client.force_login(pool_user)
    page = client.get(url).content.decode()
    assert "Pump failure v1" in page and "Safe state:" in page and "Plant protection" in page
    r = client.post(
        reverse("incidents:incident_step", args=[incident.pk]),
        {"version": incident.runbooks.first().pk, "index": "0"},
        follow=True,
    )
    assert "Step ticked off." in r.content.decode()
    assert (
        client.post(
            reverse("incidents:incident_state", args=[incident.pk]), {"state": "reviewed"}, follow=True
        )
        .content.decode()
        .count("cannot become reviewed")
        == 1
    )
    # resolving while both alarms still fire: told which, and nothing changes until ticked
    assert "2 alarms of this incident still fire" in page and "even though alarms still fire" in page
    refused = client.post(
        reverse("incidents:incident_state", args=[incident.pk]), {"state": "resolved"}, follow=True
    )
    assert "still fire (Primary loop flow lost, " in refused.content.decode()
    incident.refresh_from_db()
    assert incident.state == IncidentState.OPEN
    client.post(
        reverse("incidents:incident_state", args=[incident.pk]), {"state": "resolved", "despite": "1"}
    )
    incident.refresh_from_db()
    assert incident.state == IncidentState.RESOLVED


def test_an_incident_is_opened_by_hand_from_the_alarm_list(client, rules, pool_user, t0):
    a = alarms.alarm_raise(rule=rules["meter"], value=0, detail="", now=t0)
    client.force_login(pool_user)
    r = client.post(reverse("incidents:incident_open"), {"ids": [a.pk]}, follow=True)
    incident = Incident.objects.get()
    assert r.redirect_chain[-1][0] == reverse("incidents:incident_detail", args=[incident.pk])
    assert list(incident.alarms.all()) == [a] and incident.opened_by == pool_user
    assert incident.timeline.filter(kind=TimelineKind.OPENED, text="Opened by estates").exists()


@pytest.mark.parametrize("version", ["abc", "", "1e3", "-1", "١"])
def test_ticking_a_step_with_a_version_that_is_no_number_is_a_404_not_a_500(
    client, rules, pool_user, t0, version
):
    alarms.alarm_raise(rule=rules["pump"], value=0, detail="", now=t0)
    alarms.alarm_raise(rule=rules["throttle"], value=0, detail="", now=t0 + timedelta(minutes=1))
    incident = Incident.objects.get()
    client.force_login(pool_user)
    response = client.post(
        reverse("incidents:incident_step", args=[incident.pk]), {"version": version, "index": "0"}
    )
    assert response.status_code == 404
    assert not incident.steps_done.exists()


def test_runbooks_have_pages_and_alarms_link_their_runbook_and_incident(client, rules, pool_user, t0):
    pump = alarms.alarm_raise(rule=rules["pump"], value=0, detail="", now=t0)
    alarms.alarm_raise(rule=rules["throttle"], value=0, detail="", now=t0 + timedelta(minutes=1))
    incident = Incident.objects.get()
    client.force_login(pool_user)
    listing = client.get(reverse("runbooks:runbook_list")).content.decode()
    runbook = Runbook.objects.get(slug="pump-failure")
    assert reverse("runbooks:runbook_detail", args=[runbook.pk]) in listing
    page = client.get(reverse("runbooks:runbook_detail", args=[runbook.pk])).content.decode()
    assert "Safe state first:" in page and escape(runbook.current.steps[0]["text"]) in page
    card = client.get(reverse("alarms:alarm_detail", args=[pump.pk])).content.decode()
    assert reverse("runbooks:runbook_detail", args=[runbook.pk]) in card
    assert (
        reverse("incidents:incident_detail", args=[incident.pk]) in card
        and f"incident #{incident.pk}" in card
    )


def test_a_runbook_step_ticked_from_the_page_answers_with_that_step_alone(client, rules, pool_user, t0):
    alarms.alarm_raise(rule=rules["pump"], value=0, detail="", now=t0)
    alarms.alarm_raise(rule=rules["throttle"], value=0, detail="", now=t0 + timedelta(minutes=1))
    incident = Incident.objects.get()
    version = incident.runbooks.get(runbook__slug="pump-failure")
    client.force_login(pool_user)
    url = reverse("incidents:incident_step", args=[incident.pk])
    line = client.post(
        url, {"version": version.pk, "index": "1"}, headers={"HX-Request": "true"}
    ).content.decode()
    assert line.lstrip().startswith(f'<li class="step step-done" id="step-{version.pk}-1">')
    assert "✓ done by estates" in line and "<html" not in line
    again = client.post(
        url, {"version": version.pk, "index": "1"}, headers={"HX-Request": "true"}
    ).content.decode()
    assert "✓ done by estates" in again  # ticking twice changes nothing and says it is done
    assert incident.steps_done.count() == 1
