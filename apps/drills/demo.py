"""The demo's commissioning: both demo sites marked simulated (drills may run there), their
checklists, and at the pool one drill recorded a day ago, with the results a drill of the
demo pool gives (its alarms are not in the seeded alarm history: it is a record, marked
"demo record"). Made once."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import timezone

from apps.simulator.services import site_mark_simulated

from .choices import DrillMode, DrillState, StepResult
from .models import Drill, DrillStep
from .services import checklist_ensure

# scenario -> (result, seconds to its alarm or None): what a drill of the demo pool with the
# default rules records (tests/browser/test_drills.py runs one for real)
RECORDED = {
    "pump_stopped": (StepResult.PASSED, 24),
    "consumer_offline": (StepResult.PASSED, 33),
    "sensor_failed": (StepResult.FAILED, None),
    "telemetry_lost": (StepResult.PASSED, 127),
    "server_removed": (StepResult.PASSED, 131),
    "overheating": (StepResult.PASSED, 168),
}


def demo_drills(sites, *, user=None, now: datetime | None = None) -> str:
    now = now or timezone.now()
    for site in sites:
        site_mark_simulated(site=site)
        checklist_ensure(site=site)
    pool = next((s for s in sites if s.slug == "pool"), None)
    if pool is None or Drill.objects.filter(site=pool).exists():
        return "drills: sites simulated, checklists ready"
    start = now - timedelta(days=1)
    drill = Drill.objects.create(
        site=pool,
        mode=DrillMode.SIMULATED,
        state=DrillState.FINISHED,
        started_by=user,
        started_at=start,
        advanced_at=start,
        note="demo record",
    )
    at = start
    for position, item in enumerate(checklist_ensure(site=pool), start=1):
        result, after = RECORDED[item.scenario]
        if after is not None and item.expected_rule is None:
            result, after = StepResult.FAILED, None  # the site's rules differ from the defaults
        detail = (
            f"“{item.expected_rule.name}” after {after} s"
            if after is not None
            else "no alarm rule is set to catch this"
        )
        spent = after if after is not None else item.time_limit_s
        DrillStep.objects.create(
            drill=drill,
            position=position,
            scenario=item.scenario,
            expected_rule=item.expected_rule,
            expected_runbook=item.expected_runbook,
            safe_state=item.safe_state,
            time_limit_s=item.time_limit_s,
            result=result,
            started_at=at,
            finished_at=at + timedelta(seconds=spent),
            alarm_after_s=after,
            runbook_offered=True if after is not None else None,
            detail=detail,
        )
        at += timedelta(seconds=spent + drill.settle_s)
    drill.finished_at = at
    drill.save()
    return f"drills: a recorded drill at the pool ({drill.summary})"
