"""Publishing tasks. Each takes primary keys, is safe to run twice, and calls a service.
They run on the 'reports' queue (``CELERY_TASK_ROUTES``), which has a worker of its own,
so printing a PDF never holds up an alarm's notification."""

from __future__ import annotations

import logging
import smtplib
from datetime import datetime

from django.contrib.auth import get_user_model

from apps.sites.models import Site
from heatops.tasking import task

from .choices import PublishState
from .models import ReportSnapshot
from .periods import month_period, parse_month

logger = logging.getLogger(__name__)


@task("reports.publish")
def report_publish_task(site_id: int, month: str, user_id: int | None = None, job: str | None = None) -> None:
    """Publish a new version of a site's month (the "Publish now" button), one per ``job``."""
    from .services import progress_set, report_snapshot_publish

    site = Site.objects.filter(pk=site_id).first()
    if site is None:
        return
    user = get_user_model().objects.filter(pk=user_id).first() if user_id else None
    try:
        snapshot = report_snapshot_publish(
            site=site, period=month_period(site.timezone, *parse_month(month)), user=user, job=job
        )
    except Exception as exc:
        if job:
            progress_set(job, PublishState.FAILED, error=str(exc)[:500])
        raise
    if job:
        progress_set(job, PublishState.DONE, snapshot=snapshot.pk, version=snapshot.version)


@task("reports.publish_due")
def report_publish_due_task(now: str | None = None) -> None:
    """Hourly: publish every active site's last month that has no report yet
    (services.report_publish_due). ``now``, an ISO 8601 time with its offset, stands in for
    the wall clock (beat gives none)."""
    from .services import report_publish_due

    report_publish_due(now=datetime.fromisoformat(now) if now else None)


@task("reports.publish_month")
def report_publish_month_task(site_id: int, month: str) -> None:
    """The scheduled publication of one site's month, skipped if it exists by now."""
    from .services import report_snapshot_publish

    site = Site.objects.filter(pk=site_id, is_active=True).first()
    if site is None:
        return
    report_snapshot_publish(
        site=site, period=month_period(site.timezone, *parse_month(month)), only_if_missing=True
    )


@task("reports.email", retry_on=(smtplib.SMTPException, OSError), backoff_s=30, backoff_max_s=1800)
def report_email_task(snapshot_id: int) -> None:
    """Email a published snapshot, once (the service records the delivery first)."""
    from .services import report_snapshot_email

    snapshot = ReportSnapshot.objects.select_related("site").filter(pk=snapshot_id).first()
    if snapshot is not None:
        report_snapshot_email(snapshot=snapshot)
