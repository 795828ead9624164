"""Acknowledgements, resolutions and shelving by people go to the audit log."""

from django.dispatch import receiver

from apps.audit.services import audit_record

from .choices import AlarmState, EventKind
from .services import alarm_changed

PEOPLE_ACTIONS = {EventKind.ACKNOWLEDGED, EventKind.RESOLVED, EventKind.SHELVED}
# the state an alarm is in after each kind of event that changes it
STATE_AFTER = {
    EventKind.FIRED: AlarmState.FIRING,
    EventKind.ESCALATED: AlarmState.FIRING,
    EventKind.UNSHELVED: AlarmState.FIRING,
    EventKind.ACKNOWLEDGED: AlarmState.ACKNOWLEDGED,
    EventKind.SHELVED: AlarmState.SHELVED,
    EventKind.RESOLVED: AlarmState.RESOLVED,
}


@receiver(alarm_changed)
def on_alarm_changed(sender, alarm, event, **kwargs):
    if event.kind in PEOPLE_ACTIONS and event.user is not None:
        previous = (
            alarm.events.filter(kind__in=list(STATE_AFTER))
            .exclude(pk=event.pk)
            .order_by("-at", "-pk")
            .first()
        )
        audit_record(
            site=alarm.site,
            user=event.user,
            action=f"alarm {event.kind}",
            obj=alarm,
            before={"state": STATE_AFTER[previous.kind] if previous else AlarmState.FIRING},
            after={"state": alarm.state},
            reason=event.note,
            at=event.at,
        )
