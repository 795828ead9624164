"""The commissioning page and the site page's line about the last drill, as the roles see them."""

from __future__ import annotations

import pytest
from django.urls import reverse

from apps.accounts.models import SiteAccess
from apps.alarms.defaults import alarm_rules_create_defaults
from apps.drills.demo import demo_drills
from apps.drills.models import Drill
from apps.runbooks.library import runbooks_seed
from apps.simulator.selectors import faults_active

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(demo_sites, django_user_model):
    out = {}
    for role in ("estates", "manager"):
        out[role] = django_user_model.objects.create_user(f"{role}-person")
        for site in demo_sites.values():
            SiteAccess.objects.create(user=out[role], site=site, role=role)
    runbooks_seed()
    for site in demo_sites.values():
        alarm_rules_create_defaults(site=site)
    return out


def test_the_site_page_shows_the_last_drill_and_the_commissioning_page_its_steps(
    client, demo_sites, people, influx, now
):
    assert demo_drills(list(demo_sites.values()), now=now).startswith(
        "drills: a recorded drill at the pool (5 of 6 passed)"
    )
    client.force_login(people["manager"])
    page = client.get(reverse("dashboard:site", args=["pool"])).content.decode()
    day = Drill.objects.get().finished_at.date()
    assert f"Last drill: 5 of 6 passed, {day:%Y-%m-%d}" in page
    school = client.get(reverse("dashboard:site", args=["school"])).content.decode()
    assert "No commissioning drill yet" in school
    page = client.get(reverse("drills:commissioning", args=["pool"])).content.decode()
    assert 'data-scenario="sensor_failed"' in page and "no alarm rule is set to catch this" in page
    assert 'id="run-drill"' not in page  # managers read
    assert client.post(reverse("drills:drill_create", args=["pool"])).status_code == 403


def test_estates_run_a_drill_from_the_page_and_stop_it(client, demo_sites, people, influx):
    demo_drills(list(demo_sites.values()))
    client.force_login(people["estates"])
    page = client.get(reverse("drills:commissioning", args=["pool"])).content.decode()
    assert 'id="run-drill"' in page
    assert client.post(reverse("drills:drill_create", args=["pool"])).status_code == 302
    drill = Drill.objects.get(state="running")
    part = client.get(
        reverse("drills:commissioning", args=["pool"]) + f"?drill={drill.pk}", headers={"HX-Request": "true"}
    )
    assert f'id="drill-{drill.pk}"' in part.content.decode() and "<h1>" not in part.content.decode()
    url = reverse("drills:drill_abort", args=["pool", drill.pk])
    assert client.post(url, {"reason": "pool closing"}).status_code == 302
    drill.refresh_from_db()
    assert drill.state == "aborted" and faults_active(site_slugs=["pool"]) == {}
    part = client.get(
        reverse("drills:commissioning", args=["pool"]) + f"?drill={drill.pk}", headers={"HX-Request": "true"}
    ).content.decode()
    assert (
        f'id="drill-{drill.pk}" class="drill drill-aborted"' in part and "hx-trigger" not in part
    )  # polling stops


def test_a_real_site_gets_a_drill_ticked_by_hand(client, demo_sites, people, influx):
    client.force_login(people["estates"])  # the school is not marked simulated here
    page = client.get(reverse("drills:commissioning", args=["school"])).content.decode()
    assert "This is a real site" in page and "tick by hand" in page
    client.post(reverse("drills:drill_create", args=["school"]))
    drill = Drill.objects.get(site=demo_sites["school"])
    assert drill.mode == "manual"
    first = drill.steps.first()
    response = client.post(
        reverse("drills:drill_step", args=["school", first.pk]),
        {"result": "passed", "evidence": "seen on the BMS"},
    )
    assert response.status_code == 302
    first.refresh_from_db()
    assert first.result == "passed" and first.evidence == "seen on the BMS"
