"""Only people with access to a site own things there: the RACI page, the on-call list
and the incident review offer and accept only them, and someone named earlier who has no
access (or lost it) is flagged on the RACI page and no longer told of the site's alarms."""

from __future__ import annotations

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse

from apps.accounts.models import SiteAccess
from apps.alarms import services as alarm_services
from apps.alarms.choices import RuleKind
from apps.alarms.models import AlarmRule, OnCall
from apps.incidents.models import Incident
from apps.incidents.services import incident_open
from apps.ownership.choices import Area, Raci
from apps.ownership.models import Assignment, Team
from apps.ownership.services import raci_replace

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(demo_sites, django_user_model):
    """rita and alan work at the pool; sam at the school only; otto nowhere."""
    make = django_user_model.objects.create_user
    out = {
        n: make(n, email=f"{n}@example.org", first_name=n.title()) for n in ("rita", "alan", "sam", "otto")
    }
    for name in ("rita", "alan"):
        SiteAccess.objects.create(user=out[name], site=demo_sites["pool"])
    SiteAccess.objects.create(user=out["sam"], site=demo_sites["school"])
    return out


def grid(responsible, accountable):
    return {
        area: {Raci.RESPONSIBLE: [f"u:{responsible.pk}"], Raci.ACCOUNTABLE: [f"u:{accountable.pk}"]}
        for area in Area.values
    }


def flow_rule(site) -> AlarmRule:
    return AlarmRule.objects.create(
        site=site,
        name="Flow lost",
        kind=RuleKind.BELOW,
        severity="critical",
        domain="thermal",
        meaning="Water has stopped.",
        measurement="loop",
        field="flow_m3h",
        threshold=1,
    )


def test_the_raci_page_offers_only_people_with_access_to_the_site(admin_client, demo_sites, people):
    page = admin_client.get(reverse("ownership:raci", args=["pool"])).content.decode()
    assert f'value="u:{people["rita"].pk}"' in page and f'value="u:{people["alan"].pk}"' in page
    assert f'value="u:{people["sam"].pk}"' not in page and f'value="u:{people["otto"].pk}"' not in page
    assert ">Sam<" not in page and ">Otto<" not in page


@pytest.mark.parametrize("who", ["sam", "otto"])
def test_someone_without_access_is_refused_in_the_matrix(admin_client, demo_sites, people, who):
    pool = demo_sites["pool"]
    with pytest.raises(ValidationError) as info:
        raci_replace(site=pool, grid=grid(people["rita"], people[who]))
    assert "access to Northgate Leisure Pool" in str(info.value)

    form = {f"{a}-{r}": v for a, roles in grid(people[who], people["alan"]).items() for r, v in roles.items()}
    form["reason"] = "new on-call"
    page = admin_client.post(reverse("ownership:raci", args=["pool"]), form).content.decode()
    assert "Nothing was saved" in page and "access to Northgate Leisure Pool" in page
    assert not Assignment.objects.filter(site=pool).exists()


def test_people_named_without_access_are_flagged_and_not_notified(
    admin_client, demo_sites, people, now, django_capture_on_commit_callbacks
):
    """Assignments made before this check, or of someone whose access was removed since,
    and team members without access: kept in the matrix, flagged, not emailed."""
    pool = demo_sites["pool"]
    crew = Team.objects.create(name="Night shift")
    crew.members.add(people["rita"], people["otto"])
    raci_replace(site=pool, grid=grid(people["rita"], people["alan"]))
    Assignment.objects.filter(site=pool, area=Area.THERMAL, role=Raci.RESPONSIBLE).update(
        team=crew, user=None
    )
    SiteAccess.objects.get(user=people["alan"], site=pool).delete()  # alan leaves the pool
    Assignment.objects.create(site=pool, area=Area.THERMAL, role=Raci.INFORMED, user=people["sam"])

    rule = flow_rule(pool)
    with django_capture_on_commit_callbacks(execute=True):
        alarm = alarm_services.alarm_raise(rule=rule, value=0.0, detail="", now=now)
        alarm_services.alarm_escalate_due(now=alarm.next_escalation_at)
    sent = {address for m in mail.outbox for address in m.to}
    assert sent == {"rita@example.org"}  # level 1: the team's member with access; level 2: not alan

    page = admin_client.get(reverse("ownership:raci", args=["pool"])).content.decode()
    assert page.count("no access to this site: not notified") == len(Area.values) + 1  # alan everywhere, sam
    assert "without access to this site: Otto: not notified" in page


def test_an_on_call_entry_needs_access_and_one_without_is_not_called(
    demo_sites, people, now, django_capture_on_commit_callbacks
):
    pool = demo_sites["pool"]
    with pytest.raises(ValidationError) as info:
        OnCall(site=pool, user=people["otto"], level=1).full_clean()
    assert "no access to the site" in str(info.value)
    OnCall(site=pool, user=people["rita"], level=1).full_clean()

    OnCall.objects.create(site=pool, user=people["otto"], level=1)  # from before the check
    OnCall.objects.create(site=pool, user=people["rita"], level=1)
    with django_capture_on_commit_callbacks(execute=True):
        alarm_services.alarm_raise(rule=flow_rule(pool), value=0.0, detail="", now=now)
    assert [m.to for m in mail.outbox] == [["rita@example.org"]]


def test_the_incident_review_offers_and_accepts_only_people_with_access(
    admin_client, demo_sites, people, now
):
    pool = demo_sites["pool"]
    alarm = alarm_services.alarm_raise(rule=flow_rule(pool), value=0.0, detail="", now=now)
    incident = incident_open(site=pool, alarms=[alarm])
    Incident.objects.filter(pk=incident.pk).update(state="resolved", resolved_at=now)
    url = reverse("incidents:incident_detail", args=[incident.pk])
    page = admin_client.get(url).content.decode()
    assert f'<option value="{people["rita"].pk}">rita</option>' in page
    assert ">sam<" not in page and ">otto<" not in page

    review = reverse("incidents:incident_review", args=[incident.pk])
    form = {"cause": "pump seized", "action_text": "replace pump", "action_due": "2030-01-31"}
    page = admin_client.post(
        review, {**form, "action_owner": people["otto"].pk}, follow=True
    ).content.decode()
    assert "an owner with access to the site" in page
    incident.refresh_from_db()
    assert incident.state == "resolved" and not incident.action_items.exists()
    admin_client.post(review, {**form, "action_owner": people["rita"].pk})
    incident.refresh_from_db()
    assert incident.state == "reviewed" and incident.action_items.get().owner == people["rita"]
