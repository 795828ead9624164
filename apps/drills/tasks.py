"""The drill task: run by celery beat every few seconds (heatops/celery.py) and once when a
drill starts. Each run is short; a drill's scenarios unfold over the runs. Safe to run twice."""

from heatops.tasking import task

from .models import Drill
from .services import drill_advance, drills_advance_due


@task("drills.advance_due")
def drills_advance_due_task() -> None:
    drills_advance_due()


@task("drills.advance")
def drill_advance_task(drill_id: int) -> None:
    drill = Drill.objects.filter(pk=drill_id).first()
    if drill is not None:
        drill_advance(drill=drill)
