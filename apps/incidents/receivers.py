"""Alarms feed incidents: every alarm event lands on the timelines of the incidents that
hold the alarm, and a newly fired alarm is grouped."""

from django.dispatch import receiver

from apps.alarms.choices import EventKind
from apps.alarms.services import alarm_changed

from .choices import TimelineKind
from .models import TimelineEvent
from .services import group_new_alarm


@receiver(alarm_changed)
def on_alarm_changed(sender, alarm, event, **kwargs):
    if event.kind == EventKind.NOTIFIED:
        return
    if event.kind == EventKind.FIRED:
        group_new_alarm(alarm=alarm)
        return
    for incident in alarm.incidents.all():
        text = f"{alarm.title}: {event.get_kind_display().lower()}" + (
            f" ({event.note})" if event.note else ""
        )
        TimelineEvent.objects.create(
            incident=incident, kind=TimelineKind.ALARM, text=text, at=event.at, user=event.user, alarm=alarm
        )
