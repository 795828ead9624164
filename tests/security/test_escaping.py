"""Names and notes holding HTML are shown as text everywhere: every page (enumerated as in
test_every_route.py, so a new page is checked too), the fragments the websockets carry,
and what the charts are given."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from apps.alarms import services as alarm_services
from apps.alarms.services import render_alarm
from apps.assets.models import Asset
from apps.dashboard.live import current_site_payload
from apps.incidents.services import incident_note

from .test_every_route import ROUTES, checked_routes, kwargs_for, world  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db

SCRIPT = "<script>alert(1)</script>"
ATTRIBUTE = '"><img src=x onerror=alert(1)>'
PAYLOADS = (SCRIPT, ATTRIBUTE, "<img src=x", "<script>")


@pytest.fixture
def evil(world, django_user_model):  # noqa: F811 (the fixture imported above)
    """The school, its asset, alarm rule, alarm and incident named with HTML, and notes
    with HTML on the alarm and the incident; a superuser who may see all of it."""
    school = world.school
    # the route test's stand-in snapshot has no real figures; a superuser's report pages
    # would read them (the reports' own tests publish real ones)
    pk = world.school_snapshot.pk
    world.school_snapshot.delete()
    world.school_snapshot.pk = pk  # its URL stays, answering 404
    school.name = f"School {SCRIPT}{ATTRIBUTE}"[:120]
    school.save()
    asset = Asset.objects.filter(site=school).order_by("pk").first()
    asset.name = f"Rack {ATTRIBUTE}"
    asset.save()
    rule = world.school_alarm.rule
    rule.name = f"Loop {SCRIPT}"
    rule.meaning = f"Means {ATTRIBUTE}"
    rule.save()
    world.school_alarm.title = f"Loop hot {SCRIPT}{ATTRIBUTE}"
    world.school_alarm.save()
    world.school_incident.title = f"Incident {SCRIPT}{ATTRIBUTE}"
    world.school_incident.save()
    admin = django_user_model.objects.create_superuser("root", password="x", first_name=SCRIPT)
    alarm_services.alarm_acknowledge(alarm=world.school_alarm, user=admin, note=f"note {SCRIPT}{ATTRIBUTE}")
    incident_note(incident=world.school_incident, user=admin, text=f"we saw {SCRIPT}{ATTRIBUTE}")
    return world, admin


def _raw(text: str) -> list[str]:
    return [p for p in PAYLOADS if p in text]


def test_no_page_shows_html_from_a_name_or_a_note(client, evil):
    w, admin = evil
    client.force_login(admin)
    checked = 0
    for route in checked_routes():
        access, _ = ROUTES[route.name]
        if access == "token" or route.name == "accounts:logout":
            continue
        url = route.url(kwargs_for(route, w))
        response = client.get(url)
        if not response.get("Content-Type", "").startswith("text/html"):
            continue  # CSV, JSON, PDF: never rendered as HTML (nosniff); see test_exports.py
        checked += 1
        assert not _raw(response.content.decode()), f"{url} ({route.name}) shows raw HTML"
    # the school's own pages and the lists were among them, with the names in them
    assert checked > 15
    page = client.get(reverse("dashboard:site", args=[w.school.slug])).content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_the_websocket_fragments_carry_no_html_from_a_name_or_a_note(evil):
    w, _ = evil
    payload = current_site_payload(w.school)
    for key in ("site_html", "tile_html"):
        assert not _raw(payload[key]), key
        assert (
            "&lt;script&gt;" in payload[key] or "&lt;img" in payload[key] or "&quot;&gt;" in payload[key]
        ), key
    alarm_html = render_alarm(w.school_alarm)
    assert not _raw(alarm_html)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in alarm_html


def test_chart_labels_reach_the_page_as_json_not_html(client, evil):
    """Plotly draws labels from json_script blocks and history.json: there "<" is escaped
    (json_script) or the response is JSON with nosniff, never markup in the page."""
    w, admin = evil
    client.force_login(admin)
    history = client.get(reverse("dashboard:site_history", args=[w.school.slug]))
    assert history["Content-Type"].startswith("application/json")
    assert history["X-Content-Type-Options"] == "nosniff"
    json.loads(history.content)
    page = client.get(reverse("dashboard:site", args=[w.school.slug])).content.decode()
    for block in page.split('type="application/json"')[1:]:
        assert not _raw(block.split("</script>", 1)[0])
