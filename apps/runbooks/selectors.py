from __future__ import annotations

from .models import Runbook


def runbooks_by_slug(slugs) -> dict[str, Runbook]:
    """The runbooks with these slugs, by slug (missing ones left out)."""
    return {r.slug: r for r in Runbook.objects.filter(slug__in=set(slugs))}


def runbook_safe_state(runbook: Runbook | None) -> str:
    """The safe state of the runbook's latest version ('' without one)."""
    if runbook is None:
        return ""
    version = runbook.versions.order_by("-number").first()
    return version.safe_state if version else ""
