"""The pages that list alarms cost the same number of queries for 1 alarm as for 50: the
Accountable, the rule, the people and the incidents of every alarm come with the page's
few queries, never one per alarm."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.urls import reverse

from apps.alarms.choices import AlarmState, Domain, RuleKind
from apps.alarms.models import AccountableNotAttached, Alarm, AlarmRule
from apps.alarms.selectors import with_accountable
from apps.incidents.services import incident_open
from apps.ownership.choices import Area, Raci
from apps.ownership.models import Assignment, Team

pytestmark = pytest.mark.django_db

# the queries of each page, whatever the number of alarms on it
PAGES = {
    "alarm list": 6,
    "incident": 13,  # one of them: who is on call for it (docs/rotations.md)
    "portfolio": 13,  # 5 of them per site: a tile the pump has not cached yet
    "site": 10,  # one of them: the last drill, for the note under the headline (docs/drills.md)
}


@pytest.fixture
def owner(django_user_model, demo_sites):
    """A superuser who sees every site, Accountable for the thermal area of each; a team is
    Accountable for alarm response, which the other domains fall back to."""
    user = django_user_model.objects.create_superuser(
        "owner", password="x", first_name="Olu", last_name="Ade"
    )
    for site in demo_sites.values():
        team = Team.objects.create(name=f"Duty team {site.slug}")
        Assignment.objects.create(site=site, area=Area.ALARM_RESPONSE, role=Raci.ACCOUNTABLE, team=team)
        Assignment.objects.create(site=site, area=Area.THERMAL, role=Raci.ACCOUNTABLE, user=user)
    return user


def open_alarms(site, n: int, *, now, acknowledged_by=None) -> list[Alarm]:
    """``n`` open alarms at ``site`` of every domain, every second one acknowledged."""
    domains = list(Domain.values)
    rules = AlarmRule.objects.bulk_create(
        AlarmRule(
            site=site,
            name=f"Rule {i}",
            kind=RuleKind.ABOVE,
            severity="major",
            domain=domains[i % len(domains)],
            meaning="Too warm.",
            runbook_hint="cool it",
            measurement="facility",
            field="it_power_kw",
            threshold=1,
        )
        for i in range(n)
    )
    return Alarm.objects.bulk_create(
        Alarm(
            rule=rule,
            site=site,
            severity=rule.severity,
            domain=rule.domain,
            title=rule.name,
            message=rule.meaning,
            fired_at=now - timedelta(minutes=i),
            state=AlarmState.ACKNOWLEDGED if i % 2 else AlarmState.FIRING,
            acknowledged_by=acknowledged_by if i % 2 else None,
            acknowledged_at=now if i % 2 else None,
        )
        for i, rule in enumerate(rules)
    )


@pytest.fixture
def pages(demo_sites, owner, now, client, influx):
    """``pages(n)``: ``n`` open alarms at each demo site, those of the pool in one incident;
    returns the URL of each page, for the owner logged in."""

    def make(n: int) -> dict[str, str]:
        pool = open_alarms(demo_sites["pool"], n, now=now, acknowledged_by=owner)
        open_alarms(demo_sites["school"], n, now=now, acknowledged_by=owner)
        incident = incident_open(site=demo_sites["pool"], alarms=pool, at=now)
        client.force_login(owner)
        return {
            "alarm list": reverse("alarms:alarm_list"),
            "incident": reverse("incidents:incident_detail", args=[incident.pk]),
            "portfolio": reverse("dashboard:portfolio"),
            "site": reverse("dashboard:site", args=["pool"]),
        }

    return make


@pytest.mark.parametrize("n", [1, 50])
@pytest.mark.parametrize("page", list(PAGES))
def test_a_page_of_alarms_costs_the_same_queries_for_one_alarm_as_for_fifty(
    pages, client, django_assert_num_queries, page, n
):
    url = pages(n)[page]
    cache.clear()  # no fragments kept by a pump: the pages compute the alarms' cards now
    with django_assert_num_queries(PAGES[page]):
        html = client.get(url).content.decode()
    if page == "portfolio":  # each tile: the count and the alarm that fired first
        assert html.count(f"<dd>{n}</dd>") == 2 and html.count(f"Rule {n - 1}</a>") == 2
        return
    cards = 2 * n if page == "alarm list" else n  # the others show the pool's alarms
    # thermal alarms name the person; the others fall back to alarm response's team
    thermal = sum(1 for i in range(n) if Domain.values[i % len(Domain.values)] == Domain.THERMAL)
    assert html.count("Accountable: <strong>Olu Ade</strong>") == thermal * cards // n
    assert html.count("Accountable: <strong>Duty team") == cards - thermal * cards // n


def test_an_alarm_read_without_its_accountable_attached_says_so(demo_sites, owner, now):
    alarm = open_alarms(demo_sites["pool"], 1, now=now)[0]
    with pytest.raises(AccountableNotAttached):
        alarm.accountable  # noqa: B018
    assert with_accountable([alarm])[0].accountable == "Duty team pool"  # compute: alarm response's
