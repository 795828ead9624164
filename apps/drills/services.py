"""Commissioning checklists and drills. A simulated drill runs each scenario through the
simulator's fault injection, one at a time, and records whether the expected alarm fired
within its time limit and offered the expected runbook; a manual drill (a real site) is
ticked by hand with evidence. Starting, finishing and aborting are audited, and every
fault a drill injected is cleared when it ends, however it ends."""

from __future__ import annotations

from datetime import datetime, timedelta

from celery import current_app
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from apps.alarms.selectors import rule_fired_since, site_rules_named
from apps.audit.services import audit_record
from apps.runbooks.selectors import runbook_safe_state, runbooks_by_slug
from apps.simulator.exceptions import FaultAlreadyActive
from apps.simulator.selectors import faults_active, site_is_simulated
from apps.simulator.services import fault_start, faults_clear_all
from apps.sites.models import Site

from .choices import DONE_RESULTS, SCENARIO_FAULT, DrillMode, DrillState, Scenario, StepResult
from .defaults import DEFAULT_CHECKLIST
from .models import ChecklistItem, Drill, DrillStep

STALLED_AFTER_S = 600  # a simulated drill nobody moved on for this long was interrupted


def checklist_ensure(*, site: Site) -> list[ChecklistItem]:
    """The site's checklist, with an item for every scenario (missing ones from the defaults)."""
    have = set(ChecklistItem.objects.filter(site=site).values_list("scenario", flat=True))
    missing = [s for s in Scenario.values if s not in have]
    if missing:
        rules = site_rules_named(site, [DEFAULT_CHECKLIST[s][0] for s in missing if DEFAULT_CHECKLIST[s][0]])
        runbooks = runbooks_by_slug([DEFAULT_CHECKLIST[s][1] for s in missing if DEFAULT_CHECKLIST[s][1]])
        for scenario in missing:
            rule_name, runbook_slug, limit, safe = DEFAULT_CHECKLIST[scenario]
            runbook = runbooks.get(runbook_slug) if runbook_slug else None
            ChecklistItem.objects.create(
                site=site,
                scenario=scenario,
                expected_rule=rules.get(rule_name) if rule_name else None,
                expected_runbook=runbook,
                safe_state=runbook_safe_state(runbook) or safe,
                time_limit_s=limit,
            )
    order = {s: i for i, s in enumerate(Scenario.values)}
    return sorted(
        ChecklistItem.objects.filter(site=site).select_related("expected_rule", "expected_runbook"),
        key=lambda i: order[i.scenario],
    )


def _values(drill: Drill) -> dict:
    return {
        "mode": drill.mode,
        "state": drill.state,
        "result": drill.summary,
        "steps": {s.scenario: s.result for s in drill.steps.all()},
    }


def _fault_kinds(drill: Drill) -> list[str]:
    return [SCENARIO_FAULT[Scenario(s.scenario)].value for s in drill.steps.all()]


@transaction.atomic
def drill_start(
    *, site: Site, user, mode: str = DrillMode.SIMULATED, settle_s: int = 120, now: datetime | None = None
) -> Drill:
    """Begin a drill of every checklist item. A simulated drill only at a simulated site with
    no fault active (its normal state, which it restores), moved on by the drill task."""
    now = now or timezone.now()
    mode = DrillMode(mode)
    Site.objects.select_for_update().filter(pk=site.pk).first()  # one drill started at a time
    if Drill.objects.filter(site=site, state=DrillState.RUNNING).exists():
        raise ValidationError("A drill is already running at this site.")
    if mode == DrillMode.SIMULATED:
        if not site_is_simulated(site):
            raise ValidationError(
                f"{site.name} is a real site: a drill there is ticked by hand with evidence, never simulated."
            )
        active = faults_active(site_slugs=[site.slug]).get(site.slug)
        if active:
            raise ValidationError(
                f"Faults are active at {site.name} ({', '.join(sorted(active))}): clear them first."
            )
    items = checklist_ensure(site=site)
    drill = Drill.objects.create(
        site=site,
        mode=mode,
        started_by=user if user and user.is_authenticated else None,
        started_at=now,
        advanced_at=now,
        settle_s=settle_s,
    )
    for position, item in enumerate(items, start=1):
        DrillStep.objects.create(
            drill=drill,
            position=position,
            scenario=item.scenario,
            expected_rule=item.expected_rule,
            expected_runbook=item.expected_runbook,
            safe_state=item.safe_state,
            time_limit_s=item.time_limit_s,
        )
    audit_record(site=site, user=user, action="started drill", obj=drill, after=_values(drill), at=now)
    if mode == DrillMode.SIMULATED:  # its first step at once, not at the next beat
        transaction.on_commit(lambda: current_app.send_task("drills.advance", args=[drill.pk]))
    return drill


def _finish(drill: Drill, *, state: str, now: datetime, user=None, reason: str = "") -> None:
    before = _values(drill)
    if drill.mode == DrillMode.SIMULATED:
        faults_clear_all(site=drill.site, kinds=_fault_kinds(drill), at=now)
    drill.state, drill.finished_at, drill.note = state, now, reason[:300]
    drill.save()
    action = "finished drill" if state == DrillState.FINISHED else "aborted drill"
    audit_record(
        site=drill.site,
        user=user,
        action=action,
        obj=drill,
        before=before,
        after=_values(drill),
        reason=reason,
        at=now,
    )


def _locked(drill: Drill) -> Drill:
    return Drill.objects.select_for_update(of=("self",)).select_related("site").get(pk=drill.pk)


def _judge(step: DrillStep, *, now: datetime) -> bool:
    """Record the step's outcome if there is one yet; True once it is done."""
    limit = timedelta(seconds=step.time_limit_s)
    hit = (
        rule_fired_since(rule_id=step.expected_rule_id, since=step.started_at)
        if step.expected_rule_id
        else None
    )
    if hit is not None and hit[1] - step.started_at <= limit:
        alarm, at = hit
        step.alarm, step.alarm_after_s = alarm, (at - step.started_at).total_seconds()
        step.runbook_offered = (
            step.expected_runbook_id is None or alarm.rule.runbook_id == step.expected_runbook_id
        )
        step.result = StepResult.PASSED if step.runbook_offered else StepResult.FAILED
        step.detail = f"“{alarm.title}” after {step.alarm_after_s:.0f} s" + (
            "" if step.runbook_offered else f"; it offers no “{step.expected_runbook.title}” runbook"
        )
    elif now - step.started_at > limit:
        step.result = StepResult.FAILED
        step.detail = (
            f"no “{step.expected_rule.name}” alarm within {step.time_limit_s} s"
            if step.expected_rule_id
            else "no alarm rule is set to catch this"
        )
    else:
        return False
    step.finished_at = now
    step.save()
    return True


@transaction.atomic
def drill_advance(*, drill: Drill, now: datetime | None = None) -> Drill:
    """Move a running simulated drill on: start the next scenario's fault once the plant has
    settled after the last, judge the running one, clear its fault when it is judged, and
    finish after the last. Safe to run twice (the drill is locked, its state checked)."""
    now = now or timezone.now()
    drill = _locked(drill)
    if drill.state != DrillState.RUNNING or drill.mode != DrillMode.SIMULATED:
        return drill
    drill.advanced_at = now
    drill.save(update_fields=["advanced_at"])
    steps = list(drill.steps.select_related("expected_rule", "expected_runbook"))
    step = next((s for s in steps if s.result not in DONE_RESULTS), None)
    if step is None:
        _finish(drill, state=DrillState.FINISHED, now=now)
        return drill
    kind = SCENARIO_FAULT[Scenario(step.scenario)]
    if step.result == StepResult.PENDING:
        last = max((s.finished_at for s in steps if s.finished_at), default=None)
        if last is not None and now < last + timedelta(seconds=drill.settle_s):
            return drill  # the plant recovers from the last scenario first
        try:
            fault_start(site=drill.site, kind=kind, at=now)
        except FaultAlreadyActive:
            step.result, step.finished_at = StepResult.FAILED, now
            step.detail = f"{kind.label} was already active: not run"
        else:
            step.result, step.started_at = StepResult.RUNNING, now
        step.save()
        return drill
    if _judge(step, now=now):
        faults_clear_all(site=drill.site, kinds=[kind.value], at=now)
        if all(s.result in DONE_RESULTS for s in steps):
            _finish(drill, state=DrillState.FINISHED, now=now)
    return drill


@transaction.atomic
def drill_abort(*, drill: Drill, user, reason: str, now: datetime | None = None) -> Drill:
    """Stop a running drill and restore the simulator's normal state."""
    now = now or timezone.now()
    if not reason.strip():
        raise ValidationError("Say why the drill is stopped: the audit log keeps it.")
    drill = _locked(drill)
    if drill.state != DrillState.RUNNING:
        raise ValidationError(f"This drill is {drill.get_state_display().lower()}.")
    for step in drill.steps.filter(result=StepResult.RUNNING):
        step.result, step.finished_at, step.detail = (
            StepResult.FAILED,
            now,
            "drill stopped before it was judged",
        )
        step.save()
    _finish(drill, state=DrillState.ABORTED, now=now, user=user, reason=reason.strip())
    return drill


@transaction.atomic
def drill_step_check(
    *, step: DrillStep, user, passed: bool, evidence: str, now: datetime | None = None
) -> DrillStep:
    """Tick a manual drill's step with its evidence; the drill finishes with its last step."""
    now = now or timezone.now()
    if not evidence.strip():
        raise ValidationError("Give the evidence: what was seen, by whom, where it is recorded.")
    drill = _locked(step.drill)
    if drill.mode != DrillMode.MANUAL or drill.state != DrillState.RUNNING:
        raise ValidationError("Only a running manual drill is ticked by hand.")
    step = DrillStep.objects.select_for_update().get(pk=step.pk)
    if step.result in DONE_RESULTS:
        raise ValidationError("This step is already ticked.")
    step.result = StepResult.PASSED if passed else StepResult.FAILED
    step.evidence, step.checked_by, step.finished_at = evidence.strip(), user, now
    step.save()
    audit_record(
        site=drill.site,
        user=user,
        action="ticked drill step",
        obj=step,
        after={"scenario": step.scenario, "result": step.result, "evidence": step.evidence},
        at=now,
    )
    if not drill.steps.exclude(result__in=DONE_RESULTS).exists():
        _finish(drill, state=DrillState.FINISHED, now=now, user=user)
    return step


def drills_advance_due(*, now: datetime | None = None) -> int:
    """The drill task's tick: move every running simulated drill on; one nobody moved on for
    STALLED_AFTER_S (no worker ran the task) was interrupted: abort it, restoring the
    simulator's normal state. Returns how many drills were looked at."""
    now = now or timezone.now()
    running = list(Drill.objects.filter(state=DrillState.RUNNING, mode=DrillMode.SIMULATED))
    for drill in running:
        if drill.advanced_at and now - drill.advanced_at > timedelta(seconds=STALLED_AFTER_S):
            drill_abort(drill=drill, user=None, reason="interrupted: the drill task did not run", now=now)
        else:
            drill_advance(drill=drill, now=now)
    return len(running)
