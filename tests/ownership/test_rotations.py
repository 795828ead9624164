"""On-call rotations: shifts across clock changes, overrides, escalation to whoever is on
call, the on-call pages, the iCalendar export (read back with a real RFC 5545 parser) and
the secret calendar feed (revocable, audited)."""

from __future__ import annotations

import zoneinfo
from datetime import UTC, date, datetime, time, timedelta

import icalendar
import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from apps.accounts.models import SiteAccess
from apps.alarms import services as alarm_services
from apps.alarms.choices import RuleKind
from apps.alarms.models import AlarmRule
from apps.alarms.notify import recipients
from apps.audit.models import AuditEntry
from apps.ownership import rotations as svc
from apps.ownership.calendar import calendar
from apps.ownership.choices import Area, Raci
from apps.ownership.models import Rotation, RotationMember, Team
from apps.ownership.services import escalation_chain, raci_replace

pytestmark = pytest.mark.django_db
LONDON = zoneinfo.ZoneInfo("Europe/London")


@pytest.fixture
def crew(demo_sites, django_user_model):
    """sam, alex and jo (DevOps, all with access to the pool), morgan the manager."""
    out = {}
    for name in ("sam", "alex", "jo", "morgan"):
        out[name] = django_user_model.objects.create_user(
            name, email=f"{name}@example.org", first_name=name.title(), last_name="Doe"
        )
        SiteAccess.objects.create(
            user=out[name], site=demo_sites["pool"], role="manager" if name == "morgan" else "devops"
        )
    return out


def make_rotation(
    members, *, kind="weekly", starts_on=date(2026, 10, 12), at=time(9, 0), name="DevOps weekly"
):
    team, _ = Team.objects.get_or_create(name="DevOps on-call")
    team.members.add(*members)
    rotation = Rotation.objects.create(
        team=team, name=name, kind=kind, timezone="Europe/London", handover_time=at, starts_on=starts_on
    )
    for i, user in enumerate(members):
        RotationMember.objects.create(rotation=rotation, user=user, position=i)
    return rotation


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


# --- shifts -----------------------------------------------------------------------------


def test_weekly_hand_over_stays_at_nine_local_across_the_october_clock_change(crew):
    rotation = make_rotation([crew["sam"], crew["alex"]])  # Mondays from 12 October 2026
    # summer time (UTC+1) until Sunday 25 October 2026, then GMT
    assert svc.shift_start(rotation, 1) == utc(2026, 10, 19, 8, 0)
    assert svc.shift_start(rotation, 2) == utc(2026, 10, 26, 9, 0)
    shifts = svc.timeline(rotation, utc(2026, 10, 19, 12), utc(2026, 11, 2, 12))
    assert [(s.user.username, s.start, s.end) for s in shifts] == [
        ("alex", utc(2026, 10, 19, 12), utc(2026, 10, 26, 9)),  # 7 days and an hour, in UTC
        ("sam", utc(2026, 10, 26, 9), utc(2026, 11, 2, 9)),
        ("alex", utc(2026, 11, 2, 9), utc(2026, 11, 2, 12)),
    ]
    assert [svc.local(rotation, s.start).time() for s in shifts[1:]] == [time(9), time(9)]
    # a minute either side of the hand-over
    assert svc.on_call_at(rotation, utc(2026, 10, 26, 8, 59)).user == crew["alex"]
    assert svc.on_call_at(rotation, utc(2026, 10, 26, 9, 0)).user == crew["sam"]
    assert svc.on_call_at(rotation, utc(2026, 10, 12, 7, 59)) is None  # before the first shift


def test_daily_hand_over_in_the_spring_gap_and_three_people_in_turn(crew):
    # 01:30 does not exist in London on 28 March 2027: read as 01:30 GMT (02:30 summer time)
    rotation = make_rotation(
        [crew["sam"], crew["alex"], crew["jo"]], kind="daily", starts_on=date(2027, 3, 26), at=time(1, 30)
    )
    starts = [svc.shift_start(rotation, n) for n in range(4)]
    assert starts == [
        utc(2027, 3, 26, 1, 30),
        utc(2027, 3, 27, 1, 30),
        utc(2027, 3, 28, 1, 30),
        utc(2027, 3, 29, 0, 30),
    ]
    people = [svc.on_call_at(rotation, s + timedelta(minutes=1)).user.username for s in starts]
    assert people == ["sam", "alex", "jo", "sam"]


def test_an_override_is_a_swap_for_a_day_and_now_and_next_follow_it(crew, now):
    monday = svc.local(make_rotation([crew["sam"], crew["alex"]]), now).date()
    rotation = Rotation.objects.get()
    rotation.starts_on = monday - timedelta(days=monday.weekday() + 7)
    rotation.save()
    current, upcoming = svc.now_and_next(rotation, now)
    rota_person = current.user
    other = crew["alex"] if rota_person == crew["sam"] else crew["sam"]
    override = svc.override_add(
        rotation=rotation,
        user=other,
        starts_at=now - timedelta(hours=1),
        ends_at=now + timedelta(hours=23),
        reason="swap: dentist",
        by=rota_person,
        now=now,
    )
    current, upcoming = svc.now_and_next(rotation, now)
    assert (current.user, current.override, current.end) == (other, override, now + timedelta(hours=23))
    assert upcoming.user == rota_person and upcoming.start == now + timedelta(hours=23)
    entry = AuditEntry.objects.get(action="added on-call override")
    assert (entry.object_type, entry.object_id, entry.user) == ("rotation", str(rotation.pk), rota_person)
    assert entry.after["user"] == other.username and entry.reason == "swap: dentist"

    with pytest.raises(ValidationError, match="overlaps"):
        svc.override_add(
            rotation=rotation,
            user=rota_person,
            starts_at=now,
            ends_at=now + timedelta(hours=2),
            reason="x",
            by=rota_person,
            now=now,
        )
    with pytest.raises(ValidationError, match="member"):
        svc.override_add(
            rotation=rotation,
            user=crew["morgan"],
            starts_at=now + timedelta(days=2),
            ends_at=now + timedelta(days=3),
            reason="x",
            by=rota_person,
            now=now,
        )
    with pytest.raises(ValidationError, match="why"):
        svc.override_add(
            rotation=rotation,
            user=other,
            starts_at=now + timedelta(days=2),
            ends_at=now + timedelta(days=3),
            reason=" ",
            by=rota_person,
            now=now,
        )
    svc.override_remove(override=override, by=rota_person, reason="dentist moved", now=now)
    assert svc.on_call_at(rotation, now).user == rota_person
    removed = AuditEntry.objects.get(action="removed on-call override")
    assert removed.before["user"] == other.username and removed.reason == "dentist moved"


def network_alarm(site, *, at):
    """A network alarm: alarm response's, where the rotation is Responsible."""
    rule = AlarmRule.objects.create(
        site=site,
        name="Telemetry missing",
        kind=RuleKind.STALE,
        severity="major",
        domain="network",
        meaning="m",
        measurement="facility",
        field="it_power_kw",
        stale_after_s=120,
    )
    return alarm_services.alarm_raise(rule=rule, value=None, detail="", now=at)


# --- escalation -------------------------------------------------------------------------


def _grid(crew, rotation):
    grid = {area: {Raci.ACCOUNTABLE: [f"u:{crew['morgan'].pk}"]} for area in Area.values}
    grid[Area.ALARM_RESPONSE][Raci.RESPONSIBLE] = [f"r:{rotation.pk}"]
    return grid


def test_escalation_pages_whoever_is_on_call_at_that_moment(
    demo_sites, crew, django_capture_on_commit_callbacks
):
    pool = demo_sites["pool"]
    rotation = make_rotation([crew["sam"], crew["alex"]])
    raci_replace(site=pool, grid=_grid(crew, rotation), reason="on call rotates")
    sams_week, alexs_week = utc(2026, 10, 14, 3), utc(2026, 10, 21, 3)
    assert [[u.username for u in lvl] for lvl in escalation_chain(pool, "network", now=sams_week)] == [
        ["sam"],
        ["morgan"],
    ]
    assert [[u.username for u in lvl] for lvl in escalation_chain(pool, "network", now=alexs_week)] == [
        ["alex"],
        ["morgan"],
    ]

    alarm = network_alarm(pool, at=alexs_week)
    assert recipients(alarm, "fired", 1, now=alexs_week) == ["alex@example.org"]
    rotation.team.members.add(crew["jo"])  # of the team, not of the rota: may stand in
    svc.override_add(
        rotation=rotation,
        user=crew["jo"],
        starts_at=alexs_week - timedelta(hours=1),
        ends_at=alexs_week + timedelta(hours=8),
        reason="alex ill",
        by=crew["alex"],
        now=alexs_week - timedelta(hours=2),
    )
    assert recipients(alarm, "fired", 1, now=alexs_week) == ["jo@example.org"]
    assert recipients(alarm, "escalated", 2, now=alexs_week) == ["morgan@example.org"]

    SiteAccess.objects.filter(user=crew["jo"]).delete()  # on call, but may not see the site: not paged
    assert recipients(alarm, "fired", 1, now=alexs_week) == ["morgan@example.org"]


def test_a_rotation_can_only_be_responsible(demo_sites, crew):
    rotation = make_rotation([crew["sam"]])
    grid = _grid(crew, rotation)
    grid[Area.SAFETY][Raci.ACCOUNTABLE] = [f"r:{rotation.pk}"]
    with pytest.raises(ValidationError, match="a rotation can only be Responsible"):
        raci_replace(site=demo_sites["pool"], grid=grid, reason="x")


# --- iCalendar --------------------------------------------------------------------------


def test_the_calendar_is_rfc_5545_with_one_event_per_shift_in_utc(crew):
    rotation = make_rotation([crew["sam"], crew["alex"]], name="DevOps, weekly; nights\\days")
    rotation.team.members.add(crew["jo"])
    now = utc(2026, 10, 20, 12)
    svc.override_add(
        rotation=rotation,
        user=crew["jo"],
        starts_at=utc(2026, 10, 22, 8),
        ends_at=utc(2026, 10, 23, 8),
        reason="swap",
        by=crew["sam"],
        now=now,
    )
    text = calendar([rotation], now=now, host="heatops.example", name="On call")
    assert all(len(line.encode()) <= 75 for line in text.split("\r\n"))
    assert text.endswith("END:VCALENDAR\r\n") and "\n" not in text.replace("\r\n", "")
    cal = icalendar.Calendar.from_ical(text)
    assert cal["VERSION"] == "2.0" and cal["PRODID"]
    events = sorted(cal.walk("VEVENT"), key=lambda e: e.decoded("DTSTART"))
    assert len({str(e["UID"]) for e in events}) == len(events)
    spans = [(e.decoded("DTSTART"), e.decoded("DTEND"), str(e["SUMMARY"])) for e in events]
    # the October change: 08:00 UTC before it, 09:00 UTC after; the override cut into alex's week
    assert (
        utc(2026, 10, 19, 8),
        utc(2026, 10, 22, 8),
        "On call: Alex Doe (DevOps, weekly; nights\\days)",
    ) in spans
    assert (
        utc(2026, 10, 22, 8),
        utc(2026, 10, 23, 8),
        "On call: Jo Doe (DevOps, weekly; nights\\days)",
    ) in spans
    assert (
        utc(2026, 10, 23, 8),
        utc(2026, 10, 26, 9),
        "On call: Alex Doe (DevOps, weekly; nights\\days)",
    ) in spans
    assert spans[0][0] >= now - timedelta(days=31) and spans[-1][1] <= now + timedelta(days=181)
    for (_, end, _), (start, _, _) in zip(spans, spans[1:], strict=False):
        assert end == start  # no gap, no overlap


# --- pages ------------------------------------------------------------------------------


def test_pages_ics_and_overrides_by_a_member_and_not_by_an_outsider(
    client, demo_sites, crew, django_user_model
):
    rotation = make_rotation([crew["sam"], crew["alex"]], starts_on=date(2026, 1, 5))
    raci_replace(site=demo_sites["pool"], grid=_grid(crew, rotation), reason="x")
    outsider = django_user_model.objects.create_user("outsider")
    client.force_login(outsider)
    assert client.get(reverse("ownership:rotation", args=[rotation.pk])).status_code == 404
    assert client.get(reverse("ownership:rotation_ics", args=[rotation.pk])).status_code == 404
    assert rotation.name not in client.get(reverse("ownership:rotations")).content.decode()

    client.force_login(crew["morgan"])  # sees the pool, so its rotation, but is not a member
    page = client.get(reverse("ownership:rotation", args=[rotation.pk])).content.decode()
    assert "On call now" in page and "Add override" not in page
    start = datetime.now(LONDON).replace(second=0, microsecond=0, tzinfo=None) + timedelta(days=1)
    body = {
        "user": crew["alex"].pk,
        "starts_at": start.isoformat(timespec="minutes"),
        "ends_at": (start + timedelta(hours=8)).isoformat(timespec="minutes"),
        "reason": "swap",
    }
    assert client.post(reverse("ownership:override_add", args=[rotation.pk]), body).status_code == 403

    client.force_login(crew["sam"])
    assert "Add override" in client.get(reverse("ownership:rotation", args=[rotation.pk])).content.decode()
    assert client.post(reverse("ownership:override_add", args=[rotation.pk]), body).status_code == 302
    override = rotation.overrides.get()
    assert override.starts_at == start.replace(tzinfo=LONDON) and override.user == crew["alex"]
    ics = client.get(reverse("ownership:rotation_ics", args=[rotation.pk]))
    assert ics["Content-Type"].startswith("text/calendar")
    assert any(
        str(e["SUMMARY"]).startswith("On call: Alex Doe")
        for e in icalendar.Calendar.from_ical(ics.content).walk("VEVENT")
    )
    url = reverse("ownership:override_remove", args=[rotation.pk, override.pk])
    assert (
        client.post(url, {"reason": ""}).status_code == 302 and rotation.overrides.exists()
    )  # why is needed
    assert client.post(url, {"reason": "not needed"}).status_code == 302 and not rotation.overrides.exists()


def test_the_feed_address_works_until_revoked_and_both_are_audited(client, demo_sites, crew):
    rotation = make_rotation([crew["sam"], crew["alex"]], starts_on=date(2026, 1, 5))
    other = make_rotation([crew["jo"]], name="Estates nights")
    Team.objects.get(name="DevOps on-call").members.remove(crew["sam"])
    client.force_login(crew["sam"])
    page = client.post(reverse("ownership:feed_issue"))
    assert page.status_code == 200 and page["Cache-Control"] == "no-store"
    raw = page.content.decode().split(f"/on-call/{rotation.pk}/feed/")[1].split(".ics")[0]
    assert raw.startswith("hcal_") and raw not in client.get(reverse("ownership:rotations")).content.decode()
    client.logout()
    feed = client.get(reverse("ownership:rotation_feed", args=[rotation.pk, raw]))
    assert feed.status_code == 200 and b"BEGIN:VCALENDAR" in feed.content
    # the token reads only the rotations its person may see; a wrong token is a 404 alike
    assert client.get(reverse("ownership:rotation_feed", args=[other.pk, raw])).status_code == 404
    assert (
        client.get(reverse("ownership:rotation_feed", args=[rotation.pk, raw[:-1] + "x"])).status_code == 404
    )

    client.force_login(crew["sam"])
    again = client.post(reverse("ownership:feed_issue")).content.decode()
    raw2 = again.split(f"/on-call/{rotation.pk}/feed/")[1].split(".ics")[0]
    client.logout()
    assert (
        client.get(reverse("ownership:rotation_feed", args=[rotation.pk, raw])).status_code == 404
    )  # replaced
    assert client.get(reverse("ownership:rotation_feed", args=[rotation.pk, raw2])).status_code == 200
    client.force_login(crew["sam"])
    client.post(reverse("ownership:feed_revoke"))
    client.logout()
    assert client.get(reverse("ownership:rotation_feed", args=[rotation.pk, raw2])).status_code == 404
    actions = list(
        AuditEntry.objects.filter(user=crew["sam"]).order_by("pk").values_list("action", flat=True)
    )
    assert actions == [
        "issued calendar feed",
        "revoked calendar feed",
        "issued calendar feed",
        "revoked calendar feed",
    ]
    assert not any(raw in str(e.after) + str(e.before) + e.object_repr for e in AuditEntry.objects.all())


def test_the_alarm_and_incident_pages_show_who_is_on_call_now_and_next(client, demo_sites, crew, now):
    from apps.incidents.services import incident_open

    pool = demo_sites["pool"]
    monday = now.astimezone(LONDON).date()
    rotation = make_rotation(
        [crew["sam"], crew["alex"]], starts_on=monday - timedelta(days=monday.weekday() + 14)
    )
    raci_replace(site=pool, grid=_grid(crew, rotation), reason="x")
    alarm = network_alarm(pool, at=now)
    incident = incident_open(site=pool, alarms=[alarm])
    current, upcoming = svc.now_and_next(rotation, now)
    client.force_login(crew["morgan"])
    for url in (
        reverse("alarms:alarm_detail", args=[alarm.pk]),
        reverse("incidents:incident_detail", args=[incident.pk]),
    ):
        page = client.get(url).content.decode()
        line = page.split('class="on-call-line"')[1].split("</p>")[0]
        assert "DevOps weekly" in line
        now_part, next_part = line.split("on call now")[1].split("· next")
        assert current.user.get_full_name() in now_part and upcoming.user.get_full_name() in next_part
        assert f"until {svc.local(rotation, current.end):%a %d %b %H:%M}" in now_part
