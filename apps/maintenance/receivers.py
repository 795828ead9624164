"""Alarms meet maintenance windows: an alarm fired while a window covers its asset (or its
site, for a site-wide window) is held: recorded and shown "in maintenance", not paged, not
escalated. apps/alarms knows nothing of windows: it sends ``alarm_changed`` inside the
transaction that fires an alarm, before its notification is enqueued on commit."""

from django.dispatch import receiver

from apps.alarms.choices import EventKind
from apps.alarms.services import alarm_changed, alarm_maintenance_hold

from .models import person
from .selectors import window_active_covering


@receiver(alarm_changed)
def hold_alarm_in_maintenance(sender, alarm, event, **kwargs):
    if event.kind != EventKind.FIRED:
        return
    window = window_active_covering(site_id=alarm.site_id, asset_id=alarm.asset_id, at=event.at)
    if window is None:
        return
    window.alarms.add(alarm)
    alarm_maintenance_hold(
        alarm=alarm,
        note=f"In maintenance (window #{window.pk}: {window.reason}, {person(window.owner)}): not paged",
        now=event.at,
    )
