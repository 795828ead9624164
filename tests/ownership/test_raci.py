from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse

from apps.accounts.models import SiteAccess
from apps.alarms import services as alarm_services
from apps.alarms.choices import RuleKind
from apps.alarms.models import AlarmRule
from apps.alarms.selectors import with_accountable
from apps.ownership.choices import Area, Raci
from apps.ownership.models import Assignment, Team
from apps.ownership.services import escalation_chain, raci_replace

pytestmark = pytest.mark.django_db


@pytest.fixture
def crew(demo_sites, django_user_model):
    """Four people with access to the pool (only they can be in its matrix)."""
    make = django_user_model.objects.create_user
    people = {
        n: make(n, email=f"{n}@example.org", first_name=n.title()) for n in ("rita", "alan", "cora", "ines")
    }
    for user in people.values():
        SiteAccess.objects.create(user=user, site=demo_sites["pool"])
    return people


def full_grid(crew, **overrides):
    grid = {
        area: {
            Raci.RESPONSIBLE: [f"u:{crew['rita'].pk}"],
            Raci.ACCOUNTABLE: [f"u:{crew['alan'].pk}"],
            Raci.CONSULTED: [f"u:{crew['cora'].pk}"],
            Raci.INFORMED: [f"u:{crew['ines'].pk}"],
        }
        for area in Area.values
    }
    grid.update(overrides)
    return grid


def test_exactly_one_accountable_per_area_is_enforced_and_nothing_half_saved(demo_sites, crew):
    pool = demo_sites["pool"]
    raci_replace(site=pool, grid=full_grid(crew))
    before = Assignment.objects.filter(site=pool).count()
    two = {Raci.RESPONSIBLE: [], Raci.ACCOUNTABLE: [f"u:{crew['alan'].pk}", f"u:{crew['rita'].pk}"]}
    with pytest.raises(ValidationError) as info:
        raci_replace(site=pool, grid=full_grid(crew, safety=two, thermal={Raci.ACCOUNTABLE: []}))
    assert "Safety: exactly one Accountable is needed (2 given)." in info.value.message_dict["safety"]
    assert (
        "Thermal performance: exactly one Accountable is needed (0 given)."
        in info.value.message_dict["thermal"]
    )
    assert Assignment.objects.filter(site=pool).count() == before


def test_a_notification_reaches_the_responsible_then_the_accountable(
    demo_sites, crew, now, django_capture_on_commit_callbacks
):
    pool = demo_sites["pool"]
    team = Team.objects.create(name="DevOps on-call")
    team.members.add(crew["cora"])
    grid = full_grid(crew)
    grid[Area.THERMAL] = {Raci.RESPONSIBLE: [f"t:{team.pk}"], Raci.ACCOUNTABLE: [f"u:{crew['alan'].pk}"]}
    raci_replace(site=pool, grid=grid)
    assert [[u.username for u in level] for level in escalation_chain(pool, "thermal", now=now)] == [
        ["cora"],
        ["alan"],
    ]

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
        ack_timeout_min=10,
    )
    t0 = now
    with django_capture_on_commit_callbacks(execute=True):
        alarm = alarm_services.alarm_raise(rule=rule, value=0.0, detail="", now=t0)
        alarm_services.alarm_escalate_due(now=t0 + timedelta(minutes=10))
    assert [m.to for m in mail.outbox] == [["cora@example.org"], ["alan@example.org"]]
    assert with_accountable([alarm])[0].accountable == "Alan"


def test_the_grid_page_reads_for_everyone_with_access_and_edits_for_admins(
    client, admin_client, demo_sites, pool_user, crew
):
    url = reverse("ownership:raci", args=["pool"])
    assert client.get(url).status_code == 302
    client.force_login(pool_user)
    assert client.get(url).status_code == 200
    assert client.get(reverse("ownership:raci", args=["school"])).status_code == 404
    assert client.post(url, {}).status_code == 403

    form = {f"{area}-{role}": v for area, roles in full_grid(crew).items() for role, v in roles.items()}
    form["safety-A"] = ""
    form["reason"] = "Alan takes over safety"
    page = admin_client.post(url, form).content.decode()
    assert "Nothing was saved" in page and "Safety: exactly one Accountable is needed (0 given)." in page
    assert f'value="u:{crew["rita"].pk}" checked>' in page  # what was ticked is kept
    form["safety-A"] = f"u:{crew['alan'].pk}"
    unexplained = admin_client.post(url, {**form, "reason": " "}).content.decode()
    assert (
        "Say why ownership changes" in unexplained
        and not Assignment.objects.filter(site=demo_sites["pool"], role="A").exists()
    )
    assert admin_client.post(url, form).status_code == 302
    assert Assignment.objects.filter(site=demo_sites["pool"], role="A").count() == len(Area.values)
