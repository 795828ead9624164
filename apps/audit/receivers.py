"""Acknowledgements, resolutions and shelving by people go to the audit log."""

from django.dispatch import receiver

from apps.alarms.choices import EventKind
from apps.alarms.services import alarm_changed

from .services import audit_record

PEOPLE_ACTIONS = {EventKind.ACKNOWLEDGED, EventKind.RESOLVED, EventKind.SHELVED}


@receiver(alarm_changed)
def on_alarm_changed(sender, alarm, event, **kwargs):
    if event.kind in PEOPLE_ACTIONS and event.user is not None:
        audit_record(
            site=alarm.site,
            user=event.user,
            action=f"alarm {event.kind}",
            obj=alarm,
            after={"state": alarm.state},
            reason=event.note,
            at=event.at,
        )
