"""After acting on an alarm from a plain form, ``next`` takes the person back to a page of
heatops, never to another site (an open redirect would make a link to heatops a phishing
link)."""

from datetime import UTC, datetime

import pytest
from django.urls import reverse

from apps.alarms import services
from apps.alarms.choices import RuleKind
from apps.alarms.models import AlarmRule

pytestmark = pytest.mark.django_db
OFF_SITE = [
    "https://evil.example/login",
    "//evil.example/",
    "http://evil.example",
    "\\\\evil.example",
    "javascript:alert(1)",
]


@pytest.fixture
def alarm(demo_sites):
    rule = AlarmRule.objects.create(
        site=demo_sites["pool"],
        name="Flow lost",
        kind=RuleKind.BELOW,
        severity="critical",
        domain="thermal",
        meaning="Water has stopped.",
        measurement="loop",
        field="flow_m3h",
        threshold=1.5,
    )
    return services.alarm_raise(rule=rule, value=0.0, detail="", now=datetime.now(UTC))


@pytest.mark.parametrize("target", OFF_SITE)
def test_next_off_site_goes_to_the_alarm_list_instead(client, pool_user, alarm, target):
    client.force_login(pool_user)
    for url, data in (
        (reverse("alarms:alarm_ack", args=[alarm.pk]), {"next": target}),
        (reverse("alarms:alarm_shelve", args=[alarm.pk]), {"next": target, "minutes": "x"}),
        (reverse("alarms:alarm_bulk"), {"next": target, "action": "nonsense"}),
    ):
        response = client.post(url, data)
        assert response.status_code == 302 and response["Location"] == reverse("alarms:alarm_list"), url


def test_next_on_this_site_is_followed(client, pool_user, alarm):
    client.force_login(pool_user)
    response = client.post(reverse("alarms:alarm_ack", args=[alarm.pk]), {"next": "/sites/pool/?tab=alarms"})
    assert response.status_code == 302 and response["Location"] == "/sites/pool/?tab=alarms"
