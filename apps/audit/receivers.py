"""Acknowledgements, resolutions and shelving by people, and locked log-ins, go to the
audit log."""

from datetime import UTC, datetime

from django.contrib.auth import get_user_model
from django.dispatch import receiver

from apps.accounts.throttle import login_locked
from apps.alarms.choices import AlarmState, EventKind
from apps.alarms.services import alarm_changed

from .services import audit_record

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


class LoginAttempts:
    """What a locked log-in is about, for the audit entry."""

    def __init__(self, scope: str, username: str, address: str) -> None:
        self.scope, self.username, self.address = scope, username, address

    def __str__(self) -> str:
        if self.scope == "account":
            return f"log-ins to account {self.username!r}"
        return f"log-ins from {self.address}"


@receiver(login_locked)
def on_login_locked(sender, scope, username, address, until, **kwargs):
    user = get_user_model().objects.filter(username__iexact=username).first()
    audit_record(
        site=None,
        user=None,
        action=f"login locked ({scope})",
        obj=LoginAttempts(scope, username, address),
        after={
            "username": username,
            "account exists": user is not None,
            "address": address,
            "until": datetime.fromtimestamp(until, UTC).isoformat(timespec="seconds"),
        },
        reason="too many failed log-ins",
    )
