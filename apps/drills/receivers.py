"""The site page's line about its drills: "Last drill: 3 of 6 passed, 30 Nov 2026"."""

from django.dispatch import receiver
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from apps.dashboard.signals import site_page_notes

from .choices import DrillState
from .selectors import last_drill


@receiver(site_page_notes)
def last_drill_note(sender, site, user, **kwargs):
    drill = last_drill(site)
    url = reverse("drills:commissioning", args=[site.slug])
    if drill is None:
        return format_html('<a href="{}" class="drill-note">No commissioning drill yet</a>', url)
    if drill.state == DrillState.RUNNING:
        return format_html(
            '<a href="{}" class="drill-note running">Drill running: {} so far</a>', url, drill.summary
        )
    when = timezone.localtime(drill.finished_at, timezone.zoneinfo.ZoneInfo(site.timezone))
    return format_html(
        '<a href="{}" class="drill-note">Last drill: {}, {}</a>', url, drill.summary, f"{when:%Y-%m-%d}"
    )
