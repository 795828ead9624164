"""Publishing tasks. Each takes primary keys, is safe to run twice, and calls a service."""

from __future__ import annotations

import logging
import smtplib
from datetime import datetime

from celery import shared_task
from django.contrib.auth import get_user_model

from apps.sites.models import Site

from .choices import PublishState
from .models import ReportSnapshot
from .periods import month_period, parse_month

logger = logging.getLogger(__name__)


@shared_task(name="reports.publish", ignore_result=True)
def report_publish_task(site_id: int, month: str, user_id: int | None = None, job: str | None = None) -> None:
    """Publish a new version of a site's month (the "Publish now" button)."""
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


@shared_task(name="reports.publish_due", ignore_result=True)
def report_publish_due_task(now: str | None = None) -> None:
    """Hourly: publish every active site's last month that has no report yet
    (services.report_publish_due). ``now``, an ISO 8601 time with its offset, stands in for
    the wall clock (beat gives none)."""
    from .services import report_publish_due

    report_publish_due(now=datetime.fromisoformat(now) if now else None)


@shared_task(name="reports.publish_month", ignore_result=True)
def report_publish_month_task(site_id: int, month: str) -> None:
    """The scheduled publication of one site's month, skipped if it exists by now."""
    from .services import report_snapshot_publish

    site = Site.objects.filter(pk=site_id, is_active=True).first()
    if site is None:
        return
    report_snapshot_publish(
        site=site, period=month_period(site.timezone, *parse_month(month)), only_if_missing=True
    )


@shared_task(
    name="reports.email",
    ignore_result=True,
    autoretry_for=(smtplib.SMTPException, OSError),
    retry_backoff=30,
    retry_backoff_max=1800,
    max_retries=8,
)
def report_email_task(snapshot_id: int) -> None:
    from .services import report_snapshot_email

    snapshot = ReportSnapshot.objects.select_related("site").filter(pk=snapshot_id).first()
    if snapshot is None or snapshot.deliveries.exists():
        return
    report_snapshot_email(snapshot=snapshot)
