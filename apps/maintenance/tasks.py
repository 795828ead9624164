"""The minute task that starts maintenance windows on time and ends them (releasing their
alarms, which then page). Safe to run twice."""

from heatops.tasking import task

from .services import windows_due


@task("maintenance.windows_due")
def windows_due_task() -> None:
    windows_due()
