"""Celery application. Periodic schedules are declared here, in one place."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "heatops.settings.dev")

app = Celery("heatops")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Every periodic job of the product; later apps add theirs here.
app.conf.beat_schedule = {
    "ingest-drain-spool": {"task": "ingest.drain_spool", "schedule": 5.0},
    "alarms-escalate": {"task": "alarms.escalate", "schedule": 15.0},
    # notifications that could not be queued while Redis was down
    "alarms-requeue": {"task": "alarms.requeue", "schedule": 15.0},
    # start maintenance windows on time, end them and page their alarms still open
    "maintenance-windows-due": {"task": "maintenance.windows_due", "schedule": 60.0},
    "drills-advance-due": {"task": "drills.advance_due", "schedule": 5.0},
    # hourly: publish last month's report for each site whose local month has ended
    "reports-publish-due": {"task": "reports.publish_due", "schedule": 3600.0},
}
