"""The minute task that starts maintenance windows on time and ends them (releasing their
alarms, which then page). Safe to run twice."""

from celery import shared_task

from .services import windows_due


@shared_task(name="maintenance.windows_due", ignore_result=True)
def windows_due_task() -> None:
    windows_due()
