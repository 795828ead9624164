from __future__ import annotations

from .models import Runbook


def runbooks_by_slug(slugs) -> dict[str, Runbook]:
    """The runbooks with these slugs, by slug (missing ones left out)."""
    return {r.slug: r for r in Runbook.objects.filter(slug__in=set(slugs))}
