"""Reading drills: a site's drills with their steps, and the latest finished one."""

from __future__ import annotations

from django.db.models import QuerySet

from .choices import DrillState
from .models import Drill


def site_drills(site) -> QuerySet[Drill]:
    return (
        Drill.objects.filter(site=site)
        .select_related("started_by")
        .prefetch_related(
            "steps__expected_rule", "steps__expected_runbook", "steps__alarm", "steps__checked_by"
        )
    )


def last_drill(site) -> Drill | None:
    """The latest drill that ran to its end, or is running now."""
    return site_drills(site).exclude(state=DrillState.ABORTED).first()
