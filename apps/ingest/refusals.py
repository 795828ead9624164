"""What happens when InfluxDB refuses a batch heatops had accepted: the refusal is kept
(Ingest → Refused batches in the admin) and raised as an alarm on its site, so the people
who rely on the data hear of it, not only the web server's log."""

from __future__ import annotations

from django.utils import timezone

from apps.alarms.system import INGEST_REFUSED, system_alarm_raise
from apps.sites.models import Site

from .models import IngestRefusal


def ingest_refusal_record(
    *, site_slug: str, batch: str, lines: int, refused: int, reason: str
) -> IngestRefusal:
    now = timezone.now()
    site = Site.objects.filter(slug=site_slug).first() if site_slug else None
    refusal = IngestRefusal.objects.create(
        site=site, at=now, batch=batch, lines=lines, refused=refused, reason=reason[:10_000]
    )
    if site is not None:
        system_alarm_raise(
            site=site,
            kind=INGEST_REFUSED,
            count=refused,
            detail=f"Batch {batch}: {refused} of {lines} lines refused. InfluxDB said: {reason[:500]}",
            now=now,
        )
    return refusal
