"""Locked log-ins go to the audit log. (Apps above audit record their own actions through
audit.services; alarms does so in apps/alarms/receivers.py.)"""

from datetime import UTC, datetime

from django.contrib.auth import get_user_model
from django.dispatch import receiver

from apps.accounts.throttle import login_locked

from .services import audit_record


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
