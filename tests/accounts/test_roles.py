"""Every URL as every role: who sees what, who may change what."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.urls import reverse

from apps.accounts.models import SiteAccess
from apps.alarms import services as alarm_services
from apps.alarms.choices import RuleKind
from apps.alarms.models import AlarmRule
from apps.audit.models import AuditEntry
from apps.incidents.services import incident_open
from apps.ownership.choices import Area

pytestmark = pytest.mark.django_db
ROLES = ["estates", "devops", "manager", "admin"]


@pytest.fixture
def world(demo_sites, django_user_model):
    pool = demo_sites["pool"]
    users = {}
    for role in ROLES:
        users[role] = django_user_model.objects.create_user(role, is_staff=True)
        SiteAccess.objects.create(user=users[role], site=pool, role=role)
    users["outsider"] = django_user_model.objects.create_user("outsider")
    thermal = AlarmRule.objects.create(
        site=pool,
        name="Supply hot",
        kind=RuleKind.ABOVE,
        severity="major",
        domain="thermal",
        meaning="m",
        measurement="loop",
        field="supply_temp_c",
        threshold=60,
    )
    compute = AlarmRule.objects.create(
        site=pool,
        name="Node hot",
        kind=RuleKind.ABOVE,
        severity="major",
        domain="compute",
        meaning="m",
        measurement="node",
        field="inlet_temp_c",
        threshold=45,
    )
    alarm = alarm_services.alarm_raise(rule=thermal, value=61, detail="", now=datetime.now(UTC))
    incident = incident_open(site=pool, alarms=[alarm])
    return {
        "users": users,
        "alarm": alarm,
        "incident": incident,
        "rules": {"thermal": thermal, "compute": compute},
    }


def pages(world):
    a, i = world["alarm"].pk, world["incident"].pk
    return {
        reverse("dashboard:site", args=["pool"]): "site",
        reverse("dashboard:site_history", args=["pool"]): "site",
        reverse("dashboard:site_capacity", args=["pool"]): "site",
        reverse("alarms:alarm_detail", args=[a]): "site",
        reverse("incidents:incident_detail", args=[i]): "site",
        reverse("ownership:raci", args=["pool"]): "site",
        reverse("audit:audit_log", args=["pool"]): "site",
        reverse("maintenance:maintenance", args=["pool"]): "site",
        reverse("business:business_case", args=["pool"]): "site",
        reverse("drills:commissioning", args=["pool"]): "site",
        reverse("dashboard:portfolio"): "list",
        reverse("alarms:alarm_list"): "list",
        reverse("incidents:incident_list"): "list",
    }


@pytest.mark.parametrize("who", [None, "outsider", *ROLES])
def test_every_page_as_every_role(client, influx, world, who):
    if who:
        client.force_login(world["users"][who])
    for url, kind in pages(world).items():
        status = client.get(url).status_code
        if who is None:
            assert status == 302, url
        elif who == "outsider":
            assert status == (404 if kind == "site" else 200), url
        else:
            assert status == 200, url  # every role reads everything of its site
    if who == "outsider":
        assert "Northgate" not in client.get(reverse("dashboard:portfolio")).content.decode()


@pytest.mark.parametrize(
    ("who", "may_act", "may_own"),
    [
        ("estates", True, False),
        ("devops", True, False),
        ("manager", False, False),
        ("admin", True, True),
    ],
)
def test_changes_as_every_role(client, world, who, may_act, may_own):
    client.force_login(world["users"][who])
    a, i = world["alarm"], world["incident"]
    ack = client.post(reverse("alarms:alarm_ack", args=[a.pk]))
    assert ack.status_code == (302 if may_act else 403)
    note = client.post(reverse("incidents:incident_note", args=[i.pk]), {"text": "checked"})
    assert note.status_code == (302 if may_act else 403)
    raci = client.post(reverse("ownership:raci", args=["pool"]), {})
    assert (raci.status_code == 403) is not may_own
    htmx = client.post(
        reverse("alarms:alarm_resolve", args=[a.pk]), {"note": "x"}, headers={"HX-Request": "true"}
    )
    if not may_act:
        assert "can read alarms but not change them" in htmx.content.decode()


@pytest.mark.parametrize(
    ("who", "thermal", "compute"),
    [
        ("estates", True, False),
        ("devops", False, True),
        ("manager", False, False),
        ("admin", True, True),
    ],
)
def test_rule_editing_follows_the_role(client, world, who, thermal, compute):
    client.force_login(world["users"][who])
    for domain, allowed in (("thermal", thermal), ("compute", compute)):
        rule = world["rules"][domain]
        url = reverse("admin:alarms_alarmrule_change", args=[rule.pk])
        form = {
            "site": rule.site_id,
            "name": rule.name,
            "kind": rule.kind,
            "severity": rule.severity,
            "domain": rule.domain,
            "enabled": "on",
            "meaning": rule.meaning,
            "measurement": rule.measurement,
            "field": rule.field,
            "tags": "{}",
            "threshold": "55",
            "for_seconds": "0",
            "rate_window_s": "300",
            "conditions": "[]",
            "ack_timeout_min": "15",
            "max_escalations": "3",
            "reason": "tighter limit",
        }
        response = client.post(url, form)
        rule.refresh_from_db()
        assert (rule.threshold == 55) is allowed, (who, domain, response.status_code)
        if allowed:
            entry = AuditEntry.objects.filter(object_id=str(rule.pk), action="changed").latest("at")
            assert entry.user == world["users"][who] and entry.reason == "tighter limit"
            assert ("threshold", 60.0 if domain == "thermal" else 45.0, 55.0) in entry.changes


# --- every state-changing POST, as every role: the table in docs/roles.md ----------------


def _second_alarm(world):
    return alarm_services.alarm_raise(
        rule=world["rules"]["compute"], value=50, detail="", now=datetime.now(UTC)
    )


def _second_alarm_counted(world) -> None:
    """A second alarm (raising it may open an incident of its own: count those first)."""
    from apps.incidents.models import Incident

    world["second"] = _second_alarm(world)
    world["incidents_before"] = Incident.objects.filter(alarms=world["second"]).count()


def _with_runbook(world):
    from apps.runbooks.library import runbooks_seed
    from apps.runbooks.models import RunbookVersion

    runbooks_seed()
    version = RunbookVersion.objects.order_by("pk").first()
    world["incident"].runbooks.add(version)
    return version


def _resolved(world):
    from apps.incidents.services import incident_set_state

    incident_set_state(
        incident=world["incident"], state="resolved", user=world["users"]["admin"], despite_alarms=True
    )


# name: (url, body, what the role table requires, did it happen?)
# the permission is the column of docs/roles.md: act_on_alarms, act_on_incidents,
# edit_ownership, maintain, edit_business_case, publish_reports.
def _actions():
    from apps.incidents.models import Incident, StepDone
    from apps.ownership.models import Assignment

    def alarm_state(world, state):
        world["alarm"].refresh_from_db()
        return world["alarm"].state == state

    return {
        "alarm ack": (
            lambda w: reverse("alarms:alarm_ack", args=[w["alarm"].pk]),
            lambda w: {"note": "on it"},
            "act_on_alarms",
            lambda w: alarm_state(w, "acknowledged"),
        ),
        "alarm resolve": (
            lambda w: reverse("alarms:alarm_resolve", args=[w["alarm"].pk]),
            lambda w: {"note": "fixed"},
            "act_on_alarms",
            lambda w: alarm_state(w, "resolved"),
        ),
        "alarm shelve": (
            lambda w: reverse("alarms:alarm_shelve", args=[w["alarm"].pk]),
            lambda w: {"minutes": "30", "note": "works"},
            "act_on_alarms",
            lambda w: alarm_state(w, "shelved"),
        ),
        "bulk ack": (
            lambda w: reverse("alarms:alarm_bulk"),
            lambda w: {"action": "ack", "ids": [str(w["alarm"].pk)]},
            "act_on_alarms",
            lambda w: alarm_state(w, "acknowledged"),
        ),
        "bulk incident": (
            lambda w: reverse("incidents:incident_open"),
            lambda w: _second_alarm_counted(w) or {"ids": [str(w["second"].pk)]},
            "act_on_incidents",
            lambda w: Incident.objects.filter(alarms=w["second"]).count() > w["incidents_before"],
        ),
        "incident note": (
            lambda w: reverse("incidents:incident_note", args=[w["incident"].pk]),
            lambda w: {"text": "valve checked"},
            "act_on_incidents",
            lambda w: w["incident"].timeline.filter(text="valve checked").exists(),
        ),
        "runbook step": (
            lambda w: reverse("incidents:incident_step", args=[w["incident"].pk]),
            lambda w: {"version": str(w.setdefault("version", _with_runbook(w)).pk), "index": "0"},
            "act_on_incidents",
            lambda w: StepDone.objects.filter(incident=w["incident"]).exists(),
        ),
        "incident state": (
            lambda w: reverse("incidents:incident_state", args=[w["incident"].pk]),
            lambda w: {"state": "mitigated", "despite": "1"},
            "act_on_incidents",
            lambda w: Incident.objects.get(pk=w["incident"].pk).state == "mitigated",
        ),
        "incident review": (
            lambda w: reverse("incidents:incident_review", args=[w["incident"].pk]),
            lambda w: (
                _resolved(w)
                or {
                    "cause": "a stuck valve",
                    "action_text": ["replace it"],
                    "action_owner": [str(w["users"]["estates"].pk)],
                    "action_due": ["2030-01-01"],
                }
            ),
            "act_on_incidents",
            lambda w: Incident.objects.get(pk=w["incident"].pk).state == "reviewed",
        ),
        "raci edit": (
            lambda w: reverse("ownership:raci", args=["pool"]),
            lambda w: {
                **{f"{area}-A": [f"u:{w['users']['admin'].pk}"] for area in Area.values},
                "thermal-R": [f"u:{w['users']['estates'].pk}"],
                "reason": "new shift",
            },
            "edit_ownership",
            lambda w: Assignment.objects.filter(site__slug="pool", user=w["users"]["estates"]).exists(),
        ),
        **_maintenance_actions(),
        "business case edit": (
            lambda w: reverse("business:business_case_edit", args=["pool"]),
            lambda w: {"start": "2026-01", "reason": "plan", "expected-heat_revenue_per_year": "1000"},
            "edit_business_case",
            lambda w: AuditEntry.objects.filter(action="created business case").exists(),
        ),
        **_rotation_actions(),
        **_drill_actions(),
        "report publish": (
            lambda w: reverse("reports:publish", args=["pool", "2026-01"]),
            lambda w: {},
            "publish_reports",
            None,  # enqueued: the job's own tests follow it; here, who is let in
        ),
    }


def _drill_actions():
    """Who is let in; the drills' own tests follow what each does (on a manual drill: the
    pool is not a simulated site here)."""
    from apps.drills.models import Drill

    def drill(w):
        if "drill" not in w:
            from apps.drills.services import drill_start

            w["drill"] = drill_start(site=w["incident"].site, user=None, mode="manual")
        return w["drill"]

    return {
        "drill start": (
            lambda w: reverse("drills:drill_create", args=["pool"]),
            lambda w: {},
            "run_drills",
            lambda w: Drill.objects.filter(site__slug="pool").exists(),
        ),
        "drill step tick": (
            lambda w: reverse("drills:drill_step", args=["pool", drill(w).steps.first().pk]),
            lambda w: {"result": "passed", "evidence": "seen"},
            "run_drills",
            lambda w: drill(w).steps.first().result == "passed",
        ),
        "drill stop": (
            lambda w: reverse("drills:drill_abort", args=["pool", drill(w).pk]),
            lambda w: {"reason": "pool closing"},
            "run_drills",
            lambda w: Drill.objects.get(pk=drill(w).pk).state == "aborted",
        ),
    }


def _maintenance_actions():
    """Who is let in (403 or not); the maintenance app's own tests follow what each does."""
    from apps.incidents.models import ActionItem
    from apps.maintenance.models import MaintenanceWindow, WorkOrder

    def window(w):
        if "window" not in w:
            w["window"] = MaintenanceWindow.objects.create(
                site=w["incident"].site,
                reason="pump service",
                owner=w["users"]["estates"],
                planned_start=datetime.now(UTC) + timedelta(hours=1),
                planned_end=datetime.now(UTC) + timedelta(hours=2),
            )
        return w["window"]

    def order(w):
        if "order" not in w:
            w["order"] = WorkOrder.objects.create(
                site=w["incident"].site, title="valve", created_at=datetime.now(UTC)
            )
        return w["order"]

    def item(w):
        if "item" not in w:
            w["item"] = ActionItem.objects.create(
                incident=w["incident"], text="follow up", owner=w["users"]["estates"], due=date(2030, 1, 1)
            )
        return w["item"]

    return {
        "maintenance window create": (
            lambda w: reverse("maintenance:window_create", args=["pool"]),
            lambda w: {"reason": "pump service"},
            "maintain",
            None,
        ),
        "maintenance window cancel": (
            lambda w: reverse("maintenance:window_action", args=["pool", window(w).pk, "cancel"]),
            lambda w: {"reason": "not needed"},
            "maintain",
            None,
        ),
        "maintenance log entry": (
            lambda w: reverse("maintenance:log_entry_create", args=["pool"]),
            lambda w: {"notes": "checked"},
            "maintain",
            None,
        ),
        "work order create": (
            lambda w: reverse("maintenance:work_order_create", args=["pool"]),
            lambda w: {"title": "bleed the radiators"},
            "maintain",
            None,
        ),
        "work order state": (
            lambda w: reverse("maintenance:work_order_state", args=["pool", order(w).pk]),
            lambda w: {"state": "done"},
            "maintain",
            None,
        ),
        "work order from action item": (
            lambda w: reverse("maintenance:work_order_from_action_item", args=[item(w).pk]),
            lambda w: {},
            "maintain",
            None,
        ),
    }


def _rotation_actions():
    """A rotation Responsible for the pool's alarms, none of the roles on it: its overrides
    are changed by the pool's administrators (and by its own members, tests/ownership)."""
    from apps.ownership.models import Assignment, Rotation, RotationMember, RotationOverride, Team

    def rotation(w):
        if "rotation" not in w:
            member = w["users"].setdefault("member", _member(w))
            team = Team.objects.create(name="DevOps on-call")
            team.members.add(member)
            w["rotation"] = Rotation.objects.create(
                team=team, name="DevOps weekly", handover_time="09:00", starts_on=date(2026, 1, 5)
            )
            RotationMember.objects.create(rotation=w["rotation"], user=member)
            Assignment.objects.create(
                site=w["incident"].site, area=Area.ALARM_RESPONSE, role="R", rotation=w["rotation"]
            )
        return w["rotation"]

    def override(w):
        now = datetime.now(UTC)
        return RotationOverride.objects.create(
            rotation=rotation(w),
            user=w["users"]["member"],
            starts_at=now + timedelta(days=1),
            ends_at=now + timedelta(days=2),
            reason="swap",
            created_at=now,
        )

    tomorrow = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%dT09:00")
    return {
        "rotation override add": (
            lambda w: reverse("ownership:override_add", args=[rotation(w).pk]),
            lambda w: {
                "user": str(w["users"]["member"].pk),
                "starts_at": tomorrow,
                "ends_at": tomorrow.replace("T09", "T18"),
                "reason": "swap",
            },
            "edit_ownership",
            lambda w: RotationOverride.objects.filter(rotation=w["rotation"]).exists(),
        ),
        "rotation override remove": (
            lambda w: reverse(
                "ownership:override_remove", args=[rotation(w).pk, w.setdefault("o", override(w)).pk]
            ),
            lambda w: {"reason": "not needed"},
            "edit_ownership",
            lambda w: not RotationOverride.objects.filter(pk=w["o"].pk).exists(),
        ),
        "calendar feed issue": (lambda w: reverse("ownership:feed_issue"), lambda w: {}, "anyone", None),
        "calendar feed revoke": (lambda w: reverse("ownership:feed_revoke"), lambda w: {}, "anyone", None),
    }


def _member(world):
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create_user("rota-member")
    SiteAccess.objects.create(user=user, site=world["incident"].site, role="devops")
    return user


# docs/roles.md's table, written out again here on purpose: the code's table
# (apps/accounts/permissions.py) is checked against the documentation, not against itself.
ROLE_MAY = {
    "estates": {"act_on_alarms", "act_on_incidents", "maintain", "run_drills"},
    "devops": {"act_on_alarms", "act_on_incidents"},
    "manager": {"edit_business_case", "publish_reports"},
    "admin": {
        "act_on_alarms",
        "act_on_incidents",
        "edit_ownership",
        "maintain",
        "edit_business_case",
        "publish_reports",
        "run_drills",
    },
}
BULK = {"bulk ack", "bulk incident"}  # refused alarms are left out and the page says so: 302


def test_the_matrix_covers_every_state_changing_post_route():
    """A new POST route (not the admin's, the token endpoints' or log-out) fails here until
    it has its row in _actions()."""
    from tests.security.test_every_route import ROUTES, checked_routes

    posts = set()
    for route in checked_routes():
        access, _ = ROUTES[route.name]
        if access != "login" or route.name.startswith("admin:"):
            continue
        callback = route.name
        posts.add(callback)
    read_only = {
        "alarms:alarm_list",
        "alarms:alarm_detail",
        "incidents:incident_list",
        "incidents:incident_detail",
        "runbooks:runbook_list",
        "runbooks:runbook_detail",
        "audit:audit_log",
        "reports:portfolio",
        "reports:portfolio_csv",
        "reports:site_month",
        "reports:site_month_csv",
        "reports:site_month_pdf",
        "reports:site_range_csv",
        "reports:site_period",
        "reports:progress",
        "reports:snapshot_file",
        "dashboard:portfolio",
        "dashboard:site",
        "dashboard:site_history",
        "dashboard:site_capacity",
        "maintenance:maintenance",
        "business:business_case",
        "business:business_case_csv",
        "alarms:api_openapi",
        "ownership:rotations",
        "ownership:rotation",
        "ownership:rotation_ics",
        "drills:commissioning",
    }
    covered = {
        "alarms:alarm_ack",
        "alarms:alarm_resolve",
        "alarms:alarm_shelve",
        "alarms:alarm_bulk",
        "incidents:incident_open",
        "incidents:incident_note",
        "incidents:incident_step",
        "incidents:incident_state",
        "incidents:incident_review",
        "ownership:raci",
        "reports:publish",
        "maintenance:window_create",
        "maintenance:window_action",
        "maintenance:log_entry_create",
        "maintenance:work_order_create",
        "maintenance:work_order_state",
        "maintenance:work_order_from_action_item",
        "business:business_case_edit",
        "ownership:override_add",
        "ownership:override_remove",
        "ownership:feed_issue",
        "ownership:feed_revoke",
        "drills:drill_create",
        "drills:drill_abort",
        "drills:drill_step",
    }
    assert posts - read_only == covered, "a new page that changes state: add it to _actions()"


@pytest.mark.parametrize("action", list(_actions()))
@pytest.mark.parametrize("who", ROLES)
def test_every_change_as_every_role(client, influx, world, who, action, django_user_model):
    url, body, needs, happened = _actions()[action]
    client.force_login(world["users"][who])
    response = client.post(url(world), body(world))
    allowed = needs == "anyone" or needs in ROLE_MAY[who]  # "anyone": one's own calendar feed
    if allowed:
        assert response.status_code in (200, 302), (who, action, response.status_code)
        if happened:
            assert happened(world), (who, action)
    else:
        assert response.status_code in ((302, 403) if action in BULK else (403,)), (who, action)
        if happened:
            assert not happened(world), (who, action)


@pytest.mark.parametrize("who", ["estates", "devops"])
def test_django_permissions_do_not_let_anyone_publish_past_the_role_table(client, influx, world, who):
    from django.contrib.auth.models import Permission

    user = world["users"][who]
    user.user_permissions.add(Permission.objects.get(codename="add_reportsnapshot"))
    client.force_login(user)
    response = client.post(reverse("reports:publish", args=["pool", "2026-01"]))
    assert response.status_code == 403, (who, response.status_code)
