"""Drills against the real database and the simulator's fault rows: a simulated drill
injects each scenario's fault in turn, judges it by the alarms the alarm service recorded,
clears the fault, and restores the simulator's normal state however it ends; a real site's
drill is ticked by hand with evidence; every start, end and tick is audited."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError

from apps.accounts.models import SiteAccess
from apps.alarms.defaults import alarm_rules_create_defaults
from apps.alarms.services import alarm_raise
from apps.audit.models import AuditEntry
from apps.drills.choices import DrillState, StepResult
from apps.drills.models import Drill
from apps.drills.services import (
    checklist_ensure,
    drill_abort,
    drill_advance,
    drill_start,
    drill_step_check,
    drills_advance_due,
)
from apps.runbooks.library import runbooks_seed
from apps.simulator.models import SimulatedFault
from apps.simulator.selectors import faults_active
from apps.simulator.services import site_mark_simulated

pytestmark = pytest.mark.django_db


@pytest.fixture
def pool(demo_sites):
    site = demo_sites["pool"]
    runbooks_seed()  # first: the default rules link the runbooks there are
    alarm_rules_create_defaults(site=site)
    site_mark_simulated(site=site)
    return site


@pytest.fixture
def eve(pool, django_user_model):
    user = django_user_model.objects.create_user("eve")
    SiteAccess.objects.create(user=user, site=pool, role="estates")
    return user


def active(site) -> set[str]:
    return set(faults_active(site_slugs=[site.slug]).get(site.slug, ()))


def step(drill, scenario):
    return drill.steps.get(scenario=scenario)


def test_the_checklist_names_the_default_rules_and_runbooks(pool):
    items = {i.scenario: i for i in checklist_ensure(site=pool)}
    assert list(items) == [
        "pump_stopped",
        "consumer_offline",
        "sensor_failed",
        "telemetry_lost",
        "server_removed",
        "overheating",
    ]
    assert items["pump_stopped"].expected_rule.name == "Primary loop flow lost"
    assert items["pump_stopped"].expected_runbook.slug == "pump-failure"
    assert "throttled" in items["pump_stopped"].safe_state  # the runbook's safe state
    assert items["sensor_failed"].expected_rule is None  # no default rule catches a frozen sensor
    assert items["overheating"].expected_rule.name == "Rack A inlet too hot"  # the first rack's
    assert len(checklist_ensure(site=pool)) == 6  # made once


def test_a_simulated_drill_plays_each_scenario_and_records_what_fired(pool, eve, now):
    drill = drill_start(site=pool, user=eve, settle_s=60, now=now)
    assert AuditEntry.objects.filter(action="started drill", user=eve).count() == 1
    drill_advance(drill=drill, now=now)
    assert active(pool) == {"pump-failure"}
    first = step(drill, "pump_stopped")
    assert first.result == StepResult.RUNNING
    # the pump's flow rule fires 40 s in: the plant's protection works, and offers its runbook
    alarm_raise(rule=first.expected_rule, value=0.0, detail="flow 0", now=now + timedelta(seconds=40))
    drill_advance(drill=drill, now=now + timedelta(seconds=45))
    first.refresh_from_db()
    assert (first.result, first.alarm_after_s, first.runbook_offered) == (StepResult.PASSED, 40.0, True)
    assert active(pool) == set()  # its fault cleared as soon as it was judged
    drill_advance(drill=drill, now=now + timedelta(seconds=60))
    assert active(pool) == set()  # the plant settles first
    t = now + timedelta(seconds=110)
    drill_advance(drill=drill, now=t)
    assert active(pool) == {"consumer-offline"}
    # nobody's rule fires: failed at the time limit, fault cleared
    drill_advance(drill=drill, now=t + timedelta(seconds=121))
    second = step(drill, "consumer_offline")
    assert second.result == StepResult.FAILED and "within 120 s" in second.detail
    assert active(pool) == set()
    # the rest: each starts after the pause and, with no alarm, fails at its limit
    for _ in range(40):
        t += timedelta(seconds=200)
        drill_advance(drill=drill, now=t)
        t += timedelta(seconds=700)
        drill_advance(drill=drill, now=t)
    drill.refresh_from_db()
    assert drill.state == DrillState.FINISHED and drill.summary == "1 of 6 passed"
    assert step(drill, "sensor_failed").detail == "no alarm rule is set to catch this"
    assert active(pool) == set()
    assert SimulatedFault.objects.filter(site=pool).count() == 6  # each scenario's fault, each cleared
    assert AuditEntry.objects.get(action="finished drill").after["result"] == "1 of 6 passed"


def test_a_runbook_not_offered_fails_the_step(pool, eve, now):
    drill = drill_start(site=pool, user=eve, now=now)
    drill_advance(drill=drill, now=now)
    first = step(drill, "pump_stopped")
    rule = first.expected_rule
    rule.runbook = None
    rule.save()
    alarm_raise(rule=rule, value=0.0, detail="", now=now + timedelta(seconds=10))
    drill_advance(drill=drill, now=now + timedelta(seconds=20))
    first.refresh_from_db()
    assert first.result == StepResult.FAILED and first.runbook_offered is False
    assert "offers no “Pump failure” runbook" in first.detail


def test_stopping_a_drill_restores_the_simulator_and_is_audited(pool, eve, now):
    drill = drill_start(site=pool, user=eve, now=now)
    drill_advance(drill=drill, now=now)
    assert active(pool) == {"pump-failure"}
    with pytest.raises(ValidationError):
        drill_abort(drill=drill, user=eve, reason=" ", now=now)
    drill_abort(drill=drill, user=eve, reason="the pool asked us to stop", now=now + timedelta(seconds=5))
    drill.refresh_from_db()
    assert drill.state == DrillState.ABORTED and active(pool) == set()
    assert step(drill, "pump_stopped").result == StepResult.FAILED
    assert AuditEntry.objects.get(action="aborted drill").reason == "the pool asked us to stop"


def test_an_interrupted_drill_is_stopped_and_the_simulator_restored(pool, eve, now):
    drill = drill_start(site=pool, user=eve, now=now)
    drills_advance_due(now=now)
    assert active(pool) == {"pump-failure"}
    drills_advance_due(now=now + timedelta(minutes=30))  # no worker moved it on for 30 minutes
    drill.refresh_from_db()
    assert drill.state == DrillState.ABORTED and "interrupted" in drill.note
    assert active(pool) == set()


def test_a_drill_runs_only_on_a_simulated_site_with_no_fault_already_active(demo_sites, pool, eve, now):
    school = demo_sites["school"]
    with pytest.raises(ValidationError, match="real site"):
        drill_start(site=school, user=eve, now=now)
    SimulatedFault.objects.create(site=pool, kind="stuck-sensor", started_at=now)
    with pytest.raises(ValidationError, match="clear them first"):
        drill_start(site=pool, user=eve, now=now)
    assert not Drill.objects.exists()


def test_one_drill_at_a_time_per_site(pool, eve, now):
    drill_start(site=pool, user=eve, now=now)
    with pytest.raises(ValidationError, match="already running"):
        drill_start(site=pool, user=eve, now=now)


def test_a_real_sites_drill_is_ticked_by_hand_with_evidence(demo_sites, django_user_model, now):
    school = demo_sites["school"]
    alarm_rules_create_defaults(site=school)
    ann = django_user_model.objects.create_user("ann")
    drill = drill_start(site=school, user=ann, mode="manual", now=now)
    steps = list(drill.steps.all())
    assert active(school) == set() and [s.result for s in steps] == ["pending"] * 6
    with pytest.raises(ValidationError, match="evidence"):
        drill_step_check(step=steps[0], user=ann, passed=True, evidence="", now=now)
    for i, s in enumerate(steps):
        drill_step_check(step=s, user=ann, passed=i < 4, evidence=f"photo {i} in the log book", now=now)
    drill.refresh_from_db()
    assert drill.state == DrillState.FINISHED and drill.summary == "4 of 6 passed"
    assert AuditEntry.objects.filter(action="ticked drill step").count() == 6
    assert SimulatedFault.objects.count() == 0  # nothing was ever injected
