"""Every URL pattern and every websocket route, as nobody and as a person of another site.

The routes are enumerated from Django's URL resolver and from heatops' websocket router,
not listed by hand: a new page or socket without a line in ``ROUTES`` / ``WS_ROUTES``
fails ``test_every_route_has_a_recipe``, so nobody can add one without saying what its
arguments are and who may open it. What this guarantees (docs/roles.md, "Security
checks"):

- anonymous: every route answers a log-in redirect, 401, 403, 404 or 405 (a few public
  ones: the log-in page, the favicon, InfluxDB's ping), to GET and to POST, and never
  names a site;
- a person with access to the pool only: every route taking another site's object (its
  slug, the id of its alarm, incident, report snapshot or publishing job) answers 403,
  404 or 405, to GET and POST, never naming it; the routes of no one site answer without
  its name; ids of the other site's objects in POST bodies change nothing of it; its
  websockets are refused and the socket groups of the pages they may open carry nothing
  of it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.test import Client
from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from apps.accounts.models import SiteAccess
from apps.alarms import services as alarm_services
from apps.alarms.choices import AlarmState, RuleKind
from apps.alarms.models import Alarm, AlarmRule
from apps.incidents.models import ActionItem, Incident
from apps.incidents.services import incident_open
from apps.maintenance.models import MaintenanceWindow, WorkOrder
from apps.ownership.models import Assignment, Rotation, RotationMember, RotationOverride, Team
from apps.reports.models import ReportSnapshot
from apps.reports.services import progress_set
from apps.runbooks.library import runbooks_seed
from apps.runbooks.models import RunbookVersion
from apps.telemetry.live import site_group
from heatops.asgi import application
from heatops.routing import websocket_urlpatterns

pytestmark = pytest.mark.django_db

SECRET = "Zanzibar"  # in the other site's name and in its objects: never on a pool user's page
NAMES = ("Northgate", "Aidan", SECRET)  # no site's name for anonymous visitors


# --- the routes ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    name: str  # "namespace:name", or the route itself for an unnamed pattern
    route: str
    kwargs: frozenset[str]

    def url(self, kwargs: dict) -> str:
        return "/" + self.route if self.name == self.route else reverse(self.name, kwargs=kwargs)


def routes(patterns=None, prefix: str = "", namespace: str = "") -> list[Route]:
    """Every URL pattern of heatops, nested includes flattened."""
    found = []
    for p in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(p, URLResolver):
            ns = f"{namespace}{p.namespace}:" if p.namespace else namespace
            found += routes(p.url_patterns, prefix + str(p.pattern), ns)
        elif isinstance(p, URLPattern):
            route = prefix + str(p.pattern)
            name = f"{namespace}{p.name}" if p.name else route
            found.append(Route(name, route, frozenset(p.pattern.regex.groupindex)))
    return found


# The admin's own hundreds of patterns are walked by tests/test_admin_scope.py; here only
# a few stand for them.
ADMIN_KEPT = {"admin:index", "admin:alarms_alarm_changelist", "admin:alarms_alarm_change"}


def checked_routes() -> list[Route]:
    return [r for r in routes() if not r.route.startswith("admin/") or r.name in ADMIN_KEPT]


# Who may open each route, and its arguments naming the *other* site's objects:
#   "login": a logged-in person of the site (anonymous: redirected to log in)
#   "token": an ingest or API token (anonymous and sessions alike: 401)
#   "public": anyone (the statuses it answers anonymously)
# A route whose arguments name nothing of a site (or that has none) gets ``None`` and is
# checked for not showing the other site.
MONTH = "2026-01"


ROUTES: dict[str, tuple[str, object]] = {
    "favicon.ico": ("public", None),
    "admin:index": ("login", None),
    "admin:alarms_alarm_changelist": ("login", None),
    "admin:alarms_alarm_change": ("login", lambda w: {"object_id": w.school_alarm.pk}),
    "ingest:write": ("token", lambda w: {"site_slug": w.school.slug}),
    "ingest:query": ("token", lambda w: {"site_slug": w.school.slug}),
    "ingest:ping": ("public", lambda w: {"site_slug": w.school.slug}),
    "ingest_v1:write": ("token", None),
    "ingest_v1:query": ("token", None),
    "ingest_v1:ping": ("public", None),
    "accounts:login": ("public", None),
    "accounts:logout": ("public", None),
    "alarms:alarm_list": ("login", None),
    "alarms:alarm_bulk": ("login", None),
    "alarms:alarm_detail": ("login", lambda w: {"pk": w.school_alarm.pk}),
    "alarms:alarm_ack": ("login", lambda w: {"pk": w.school_alarm.pk}),
    "alarms:alarm_resolve": ("login", lambda w: {"pk": w.school_alarm.pk}),
    "alarms:alarm_shelve": ("login", lambda w: {"pk": w.school_alarm.pk}),
    "alarms:api_alarm_list": ("token", None),
    "alarms:api_openapi": ("login", None),  # a token, or a session: anonymous gets 401
    "alarms:api_alarm_ack": ("token", lambda w: {"pk": w.school_alarm.pk}),
    "ownership:raci": ("login", lambda w: {"slug": w.school.slug}),
    "ownership:rotations": ("login", None),
    "ownership:feed_issue": ("login", None),
    "ownership:feed_revoke": ("login", None),
    "ownership:rotation": ("login", lambda w: {"pk": school_rotation(w)["rotation"].pk}),
    "ownership:rotation_ics": ("login", lambda w: {"pk": school_rotation(w)["rotation"].pk}),
    "ownership:override_add": ("login", lambda w: {"pk": school_rotation(w)["rotation"].pk}),
    "ownership:override_remove": (
        "login",
        lambda w: {"pk": school_rotation(w)["rotation"].pk, "override": school_rotation(w)["override"].pk},
    ),
    # the school person's rotation, with a token that is not theirs: as for anyone, 404
    "ownership:rotation_feed": (
        "public",
        lambda w: {"pk": school_rotation(w)["rotation"].pk, "token": "hcal_" + "A" * 43},
    ),
    "incidents:incident_list": ("login", None),
    "incidents:incident_detail": ("login", lambda w: {"pk": w.school_incident.pk}),
    "incidents:incident_note": ("login", lambda w: {"pk": w.school_incident.pk}),
    "incidents:incident_step": ("login", lambda w: {"pk": w.school_incident.pk}),
    "incidents:incident_state": ("login", lambda w: {"pk": w.school_incident.pk}),
    "incidents:incident_review": ("login", lambda w: {"pk": w.school_incident.pk}),
    "incidents:incident_open": ("login", None),
    "runbooks:runbook_list": ("login", None),
    "runbooks:runbook_detail": ("login", None),  # runbooks belong to no site
    "audit:audit_log": ("login", lambda w: {"slug": w.school.slug}),
    "reports:portfolio": ("login", None),
    "reports:portfolio_csv": ("login", None),
    "reports:site_month": ("login", lambda w: {"slug": w.school.slug, "month": MONTH}),
    "reports:site_month_csv": ("login", lambda w: {"slug": w.school.slug, "month": MONTH}),
    "reports:site_month_pdf": ("login", lambda w: {"slug": w.school.slug, "month": MONTH}),
    "reports:publish": ("login", lambda w: {"slug": w.school.slug, "month": MONTH}),
    "reports:site_range_csv": ("login", lambda w: {"slug": w.school.slug}),
    "reports:site_period": ("login", lambda w: {"slug": w.school.slug}),
    "reports:progress": ("login", lambda w: {"job": w.school_job}),
    "reports:snapshot_file": ("login", lambda w: {"pk": w.school_snapshot.pk, "kind": "csv"}),
    "dashboard:portfolio": ("login", None),
    "dashboard:site": ("login", lambda w: {"slug": w.school.slug}),
    "dashboard:site_history": ("login", lambda w: {"slug": w.school.slug}),
    "dashboard:site_capacity": ("login", lambda w: {"slug": w.school.slug}),
    "maintenance:maintenance": ("login", lambda w: {"slug": w.school.slug}),
    "business:business_case": ("login", lambda w: {"slug": w.school.slug}),
    "business:business_case_edit": ("login", lambda w: {"slug": w.school.slug}),
    "business:business_case_csv": ("login", lambda w: {"slug": w.school.slug}),
    "drills:commissioning": ("login", lambda w: {"slug": w.school.slug}),
    "drills:drill_create": ("login", lambda w: {"slug": w.school.slug}),
    "drills:drill_abort": ("login", lambda w: {"slug": w.school.slug, "pk": school_drill(w).pk}),
    "drills:drill_step": ("login", lambda w: {"slug": w.school.slug, "pk": school_drill(w).steps.first().pk}),
    "maintenance:window_create": ("login", lambda w: {"slug": w.school.slug}),
    "maintenance:window_action": (
        "login",
        lambda w: {"slug": w.school.slug, "pk": school_maintenance(w)["window"].pk, "action": "end"},
    ),
    "maintenance:log_entry_create": ("login", lambda w: {"slug": w.school.slug}),
    "maintenance:work_order_create": ("login", lambda w: {"slug": w.school.slug}),
    "maintenance:work_order_state": (
        "login",
        lambda w: {"slug": w.school.slug, "pk": school_maintenance(w)["work_order"].pk},
    ),
    "maintenance:work_order_from_action_item": (
        "login",
        lambda w: {"pk": school_maintenance(w)["action_item"].pk},
    ),
}


def school_rotation(w) -> dict:
    """The school's on-call rotation (Responsible for its alarms) and an override of it."""
    from django.utils import timezone

    rotation = Rotation.objects.filter(name__startswith=SECRET).first()
    if rotation is None:
        team = Team.objects.create(name=f"{SECRET} on-call")
        team.members.add(w.school_person)
        rotation = Rotation.objects.create(
            team=team, name=f"{SECRET} weekly", handover_time="09:00", starts_on=date(2026, 1, 5)
        )
        RotationMember.objects.create(rotation=rotation, user=w.school_person)
        Assignment.objects.create(site=w.school, area="alarm_response", role="R", rotation=rotation)
        now = timezone.now()
        RotationOverride.objects.create(
            rotation=rotation,
            user=w.school_person,
            starts_at=now + timedelta(days=1),
            ends_at=now + timedelta(days=2),
            reason=f"{SECRET} swap",
            created_at=now,
        )
    return {"rotation": rotation, "override": rotation.overrides.get()}
def school_drill(w):
    """The school's drill, running and ticked by hand (made on first use)."""
    from django.utils import timezone

    from apps.drills.models import Drill, DrillStep

    drill = Drill.objects.filter(site=w.school).first()
    if drill is None:
        drill = Drill.objects.create(
            site=w.school, mode="manual", started_at=timezone.now(), note=f"{SECRET} drill"
        )
        DrillStep.objects.create(drill=drill, position=1, scenario="pump_stopped", time_limit_s=60)
    return drill


def school_maintenance(w) -> dict:
    """The school's maintenance window, work order and review action item (made on first use)."""
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from apps.maintenance.models import MaintenanceWindow, WorkOrder

    now = timezone.now()
    estates, _ = get_user_model().objects.get_or_create(username=f"{SECRET.lower()}-estates")
    window = MaintenanceWindow.objects.filter(site=w.school).first() or MaintenanceWindow.objects.create(
        site=w.school,
        reason=f"{SECRET} pump service",
        owner=estates,
        planned_start=now - timedelta(hours=1),
        planned_end=now + timedelta(hours=1),
        state="active",
        actual_start=now - timedelta(hours=1),
    )
    order = WorkOrder.objects.filter(site=w.school).first() or WorkOrder.objects.create(
        site=w.school, title=f"{SECRET} seal", created_at=now
    )
    item = ActionItem.objects.filter(incident=w.school_incident).first() or ActionItem.objects.create(
        incident=w.school_incident, text=f"{SECRET} action", owner=estates, due=now.date()
    )
    return {"window": window, "work_order": order, "action_item": item}


# Arguments of routes that belong to no site (or take the person's own objects).
GLOBAL_KWARGS = {
    "runbooks:runbook_detail": lambda w: {"pk": w.runbook_version.runbook_id},
    "reports:portfolio_csv": lambda w: {"month": MONTH},
}

# The websocket routes: their arguments naming the other site, None if they have none.
WS_ROUTES: dict[str, object] = {
    "ws/portfolio/": None,
    "ws/sites/<slug:slug>/": lambda w: {"slug": w.school.slug},
    "ws/alarms/": None,
}


def ws_routes() -> list[str]:
    return [str(p.pattern) for p in websocket_urlpatterns]


def ws_path(route: str, kwargs: dict) -> str:
    return "/" + re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(kwargs[m[1]]), route)


def kwargs_for(route: Route, w) -> dict:
    _, recipe = ROUTES[route.name]
    kwargs = recipe(w) if recipe else GLOBAL_KWARGS.get(route.name, lambda w: {})(w)
    assert set(kwargs) == set(route.kwargs), f"{route.name}: recipe gives {set(kwargs)}, needs {route.kwargs}"
    return kwargs


def test_every_route_has_a_recipe():
    """A new URL pattern or websocket route fails here until it is given its arguments and
    who may open it in ROUTES / WS_ROUTES (and so is checked by the tests below)."""
    names = {r.name for r in checked_routes()}
    assert names - set(ROUTES) == set(), "new URL patterns: add them to ROUTES"
    assert set(ROUTES) - names == set(), "ROUTES names patterns that are gone"
    for r in checked_routes():
        if ROUTES[r.name][1] is None and r.kwargs:
            assert r.name in GLOBAL_KWARGS, f"{r.name} takes {set(r.kwargs)}: say what they are"
    assert set(ws_routes()) == set(WS_ROUTES), "new or gone websocket routes: update WS_ROUTES"


# --- the world: the pool (ours) and a school whose name is a secret -----------------------


@dataclass
class World:
    pool: object
    school: object
    pool_user: object
    school_person: object
    pool_alarm: Alarm
    school_alarm: Alarm
    pool_incident: Incident
    school_incident: Incident
    school_snapshot: ReportSnapshot
    school_job: str
    runbook_version: RunbookVersion
    school_window: MaintenanceWindow
    school_work_order: WorkOrder
    school_action_item: ActionItem


def _rule(site, name: str) -> AlarmRule:
    return AlarmRule.objects.create(
        site=site,
        name=name,
        kind=RuleKind.ABOVE,
        severity="major",
        domain="thermal",
        meaning="The loop runs hot.",
        measurement="loop",
        field="supply_temp_c",
        threshold=60,
    )


@pytest.fixture
def world(demo_sites, pool_user, django_user_model, now, influx) -> World:
    pool, school = demo_sites["pool"], demo_sites["school"]
    school.name = f"St Aidan's {SECRET} School"
    school.save()
    school_person = django_user_model.objects.create_user(f"{SECRET.lower()}-head", first_name=SECRET)
    SiteAccess.objects.create(user=school_person, site=school, role="admin")
    runbooks_seed()
    pool_alarm = alarm_services.alarm_raise(rule=_rule(pool, "Pool loop hot"), value=61, detail="", now=now)
    school_alarm = alarm_services.alarm_raise(
        rule=_rule(school, f"{SECRET} loop hot"), value=61, detail=SECRET, now=now
    )
    pool_incident = incident_open(site=pool, alarms=[pool_alarm], title="Pool incident")
    school_incident = incident_open(site=school, alarms=[school_alarm], title=f"{SECRET} incident")
    first = date(now.year, now.month, 1)
    snapshot = ReportSnapshot.objects.create(
        site=school,
        period_start=(first - timedelta(days=1)).replace(day=1),
        period_end=first,
        label=f"{SECRET} month",
        version=1,
        inputs={},
        figures={},
        csv=f"site,{SECRET}\n",
        pdf=b"%PDF-1.4",
    )
    job = "0" * 32
    progress_set(job, "queued", site=school.slug, month=MONTH)
    window = MaintenanceWindow.objects.create(
        site=school,
        reason=f"{SECRET} pump service",
        owner=school_person,
        planned_start=now + timedelta(hours=1),
        planned_end=now + timedelta(hours=2),
    )
    work_order = WorkOrder.objects.create(site=school, title=f"{SECRET} valve", created_at=now)
    action_item = ActionItem.objects.create(
        incident=school_incident, text=f"{SECRET} follow-up", owner=school_person, due=first
    )
    return World(
        pool=pool,
        school=school,
        pool_user=pool_user,
        school_person=school_person,
        pool_alarm=pool_alarm,
        school_alarm=school_alarm,
        pool_incident=pool_incident,
        school_incident=school_incident,
        school_snapshot=snapshot,
        school_job=job,
        runbook_version=RunbookVersion.objects.order_by("pk").first(),
        school_window=window,
        school_work_order=work_order,
        school_action_item=action_item,
    )


def school_ids_body(w: World) -> dict:
    """Every field a POST of heatops takes an id or a person in, naming the school's."""
    person = str(w.school_person.pk)
    return {
        "ids": [str(w.school_alarm.pk)],
        "action": "ack",
        "note": "x",
        "text": "x",
        "state": "resolved",
        "despite": "1",
        "minutes": "60",
        "version": str(w.runbook_version.pk),
        "index": "0",
        "cause": "x",
        "action_text": ["x"],
        "action_owner": [person],
        "action_due": [""],
        "reason": "x",
        "owner": person,
        "assignee": person,
        "performed_by": person,
        "asset": "",
        "user": person,
        "starts_at": "2030-01-01T09:00",
        "ends_at": "2030-01-02T09:00",
        **{
            f"{area}-{role}": [f"u:{person}"]
            for area in ("thermal", "compute", "maintenance")
            for role in "RACI"
        },
    }


def school_untouched(w: World) -> None:
    alarm = Alarm.objects.get(pk=w.school_alarm.pk)
    assert alarm.state == AlarmState.FIRING and alarm.acknowledged_by_id is None
    incident = Incident.objects.get(pk=w.school_incident.pk)
    assert incident.state == w.school_incident.state
    assert incident.timeline.count() == w.school_incident.timeline.count()
    assert list(ActionItem.objects.filter(owner=w.school_person)) == [w.school_action_item]
    assert not Assignment.objects.filter(user=w.school_person).exclude(site=w.school).exists()
    assert not Incident.objects.filter(alarms=w.school_alarm).exclude(pk=w.school_incident.pk).exists()
    assert ReportSnapshot.objects.filter(site=w.school).count() == 1
    window = MaintenanceWindow.objects.get(pk=w.school_window.pk)
    assert (window.state, window.planned_end) == (w.school_window.state, w.school_window.planned_end)
    assert not MaintenanceWindow.objects.filter(owner=w.school_person).exclude(site=w.school).exists()
    order = WorkOrder.objects.get(pk=w.school_work_order.pk)
    assert (order.state, order.assignee_id) == (w.school_work_order.state, None)
    assert not WorkOrder.objects.filter(action_item=w.school_action_item).exists()
    assert WorkOrder.objects.filter(site=w.school).count() == 1
    assert list(RotationOverride.objects.values_list("user", flat=True)) in ([], [w.school_person.pk])
    from apps.drills.models import Drill

    assert [(d.state, d.passed) for d in Drill.objects.filter(site=w.school)] in ([], [("running", 0)])
    assert not Drill.objects.exclude(site=w.school).exclude(site=w.pool).exists()


# --- anonymous ---------------------------------------------------------------------------

PUBLIC = {
    "favicon.ico": {"GET": {301}, "POST": {301}},
    "accounts:login": {"GET": {200}, "POST": {200}},  # the form, again with its errors
    "accounts:logout": {"GET": {405}, "POST": {302}},
    "ingest:ping": {"GET": {204}, "POST": {204}},  # as InfluxDB answers: no site named
    "ingest_v1:ping": {"GET": {204}, "POST": {204}},
    "ownership:rotation_feed": {"GET": {404}, "POST": {405}},  # names nothing, logs no path
}
REFUSED = {401, 403, 404, 405}


def _no_names(response, names, where: str) -> None:
    body = response.content.decode(errors="replace")
    for name in names:
        assert name not in body, f"{where} shows {name!r}"
    for header, value in response.items():
        for name in names:
            assert name not in value, f"{where} header {header} shows {name!r}"


def test_anonymous_gets_nothing_from_any_route(client, world):
    for route in checked_routes():
        url = route.url(kwargs_for(route, world))
        for method in ("GET", "POST"):
            response = client.generic(method, url)
            where = f"anonymous {method} {url} ({route.name})"
            access, _ = ROUTES[route.name]
            if access == "public":
                assert response.status_code in PUBLIC[route.name][method], where
            elif response.status_code == 302:
                assert response["Location"].startswith(("/accounts/login/", "/admin/login/")), where
                assert access == "login", where
            else:
                assert response.status_code in REFUSED, (where, response.status_code)
                if access == "token":
                    assert response.status_code in (401, 405), where
            _no_names(response, NAMES, where)
    school_untouched(world)


def test_the_ping_says_the_same_for_any_site_and_for_none(client, world):
    answers = {
        slug: (r.status_code, tuple(sorted((k, v) for k, v in r.items() if k.lower() != "date")))
        for slug in ("pool", world.school.slug, "no-such-site")
        for r in [client.get(reverse("ingest:ping", args=[slug]))]
    }
    assert len(set(answers.values())) == 1, answers


# --- a person of the pool ----------------------------------------------------------------


def test_a_pool_person_gets_nothing_of_the_other_site_by_url(client, world):
    client.force_login(world.pool_user)
    for route in checked_routes():
        kwargs = kwargs_for(route, world)
        url = route.url(kwargs)
        access, recipe = ROUTES[route.name]
        if route.name == "accounts:logout":
            continue  # would end the session; it has no site
        for method in ("GET", "POST"):
            data = school_ids_body(world) if method == "POST" else None
            response = client.generic(method, url, **_encoded(data))
            where = f"pool person {method} {url} ({route.name}): {response.status_code}"
            if recipe is not None and access != "public":  # the other site's object, by URL
                assert response.status_code in (*REFUSED, 302), where
                if response.status_code == 302:  # only to log in (the admin, not staff)
                    assert response["Location"].startswith("/admin/login/"), where
            elif access == "token":
                assert response.status_code in (401, 405), where
            else:
                assert response.status_code < 500, where
            _no_names(response, (SECRET, "Aidan"), where)
    school_untouched(world)


def _encoded(data: dict | None) -> dict:
    if data is None:
        return {}
    return {"data": encode_multipart(BOUNDARY, data), "content_type": MULTIPART_CONTENT}


@pytest.mark.parametrize(
    "name",
    [
        "alarms:alarm_ack",
        "alarms:alarm_resolve",
        "alarms:alarm_shelve",
        "incidents:incident_note",
        "incidents:incident_step",
        "incidents:incident_state",
        "incidents:incident_review",
        "ownership:raci",
        "maintenance:window_action",
        "maintenance:work_order_state",
        "maintenance:window_create",
        "maintenance:work_order_create",
        "maintenance:log_entry_create",
    ],
)
def test_ids_of_the_other_site_in_a_post_about_ones_own_change_nothing_of_it(client, world, name):
    """The pool person's own alarm, incident or RACI in the URL, the school's alarm ids and
    its person in the body: nothing of the school changes, and its person is not taken."""
    client.force_login(world.pool_user)
    own = {
        "alarms": {"pk": world.pool_alarm.pk},
        "incidents": {"pk": world.pool_incident.pk},
        "ownership": {"slug": world.pool.slug},
        # the pool's slug, the school's window or work order: still nothing of the school
        "maintenance:window_action": {
            "slug": world.pool.slug,
            "pk": world.school_window.pk,
            "action": "cancel",
        },
        "maintenance:work_order_state": {"slug": world.pool.slug, "pk": world.school_work_order.pk},
        "maintenance": {"slug": world.pool.slug},
    }
    own = own.get(name) or own[name.partition(":")[0]]
    response = client.generic("POST", reverse(name, kwargs=own), **_encoded(school_ids_body(world)))
    assert response.status_code < 500, (name, response.status_code)
    _no_names(response, (SECRET, "Aidan"), name)
    school_untouched(world)


def test_bulk_actions_take_only_alarms_one_may_see(client, world):
    client.force_login(world.pool_user)
    both = [str(world.pool_alarm.pk), str(world.school_alarm.pk)]
    response = client.post(reverse("incidents:incident_open"), {"ids": both})
    assert response.status_code == 302
    school_untouched(world)
    client.post(reverse("alarms:alarm_bulk"), {"action": "ack", "ids": both})
    assert Alarm.objects.get(pk=world.pool_alarm.pk).state == AlarmState.ACKNOWLEDGED
    school_untouched(world)


def test_the_api_takes_only_alarms_one_may_see(client, world):
    from apps.accounts.services import personal_token_issue

    _, raw = personal_token_issue(user=world.pool_user, name="bot")
    auth = {"Authorization": f"Token {raw}"}
    listed = client.get(reverse("alarms:api_alarm_list") + f"?site={world.school.slug}", headers=auth)
    assert listed.status_code == 200 and listed.json()["alarms"] == []
    _no_names(listed, (SECRET, "Aidan"), "api list")
    ack = client.post(
        reverse("alarms:api_alarm_ack", args=[world.school_alarm.pk]),
        data="{}",
        content_type="application/json",
        headers=auth,
    )
    assert ack.status_code == 404
    _no_names(ack, (SECRET, "Aidan"), "api ack")
    school_untouched(world)


# --- websockets --------------------------------------------------------------------------


def session_of(user) -> str:
    c = Client()
    c.force_login(user)
    return c.cookies["sessionid"].value


async def ws_connect(path: str, session: str | None):
    headers = [(b"origin", b"http://127.0.0.1"), (b"host", b"127.0.0.1")]
    if session:
        headers.append((b"cookie", f"sessionid={session}".encode()))
    communicator = WebsocketCommunicator(application, path, headers=headers)
    connected, code = await communicator.connect()
    return communicator, connected, code


def _ws_paths(w, *, other_site: bool) -> list[str]:
    paths = []
    for route in ws_routes():
        recipe = WS_ROUTES[route]
        if other_site and recipe is None:
            continue
        if recipe is None:
            paths.append(ws_path(route, {}))
        else:
            kwargs = recipe(w) if other_site else {k: w.pool.slug for k in recipe(w)}
            paths.append(ws_path(route, kwargs))
    return paths


@pytest.mark.django_db(transaction=True)
def test_anonymous_sockets_are_refused_on_every_route(world):
    async def check():
        for path in _ws_paths(world, other_site=False) + _ws_paths(world, other_site=True):
            ws, connected, _ = await ws_connect(path, None)
            assert not connected, path
            await ws.disconnect()

    async_to_sync(check)()


@pytest.mark.django_db(transaction=True)
def test_a_pool_person_is_refused_the_other_sites_sockets_and_hears_nothing_of_it(world):
    session = session_of(world.pool_user)
    layer = get_channel_layer()
    school_event = {
        "type": "alarms.update",
        "html": f"<p>{SECRET}</p>",
        "site_html": f"<p>{SECRET}</p>",
        "list_html": f"<p>{SECRET}</p>",
        "fired": True,
        "site_slug": world.school.slug,
        "severity": "major",
        "domain": "thermal",
        "state": "open",
    }
    school_tick = {
        "type": "telemetry.update",
        "site_html": f"<p>{SECRET}</p>",
        "tile_html": f"<p>{SECRET}</p>",
    }

    async def check():
        for path in _ws_paths(world, other_site=True):
            ws, connected, code = await ws_connect(path, session)
            assert not connected, path
            await ws.disconnect()
        sockets = []
        for path in _ws_paths(world, other_site=False) + ["/ws/alarms/?site=" + world.school.slug]:
            ws, connected, _ = await ws_connect(path, session)
            assert connected, path
            sockets.append((path, ws))
        for _, ws in sockets:  # drain what they sent on connecting
            while not await ws.receive_nothing(timeout=0.2):
                await ws.receive_output()
        await layer.group_send(site_group(world.school.pk), school_event)
        await layer.group_send(site_group(world.school.pk), school_tick)
        for path, ws in sockets:
            assert await ws.receive_nothing(timeout=0.5), f"{path} forwarded the other site's event"
        # and the same sockets do carry the pool's (the check above is not vacuous)
        await layer.group_send(
            site_group(world.pool.pk),
            {**school_event, "site_html": "<p>pool</p>", "list_html": "<p>pool</p>"},
        )
        heard = [path for path, ws in sockets if not await ws.receive_nothing(timeout=1)]
        assert "/ws/sites/pool/" in heard and "/ws/alarms/" in heard, heard
        for _, ws in sockets:
            await ws.disconnect()

    async_to_sync(check)()
