"""A change a person asked for, told back on the next page: what the service found wrong
with it, or that it was done."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.core.exceptions import ValidationError


def flash_outcome(request, change: Callable[[], object], ok: str | Callable[[object], str]) -> bool:
    """Run ``change``; flash its ValidationError's messages, or ``ok`` (a text, or a function
    of what ``change`` returned). True if it was done."""
    try:
        result = change()
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return False
    messages.success(request, ok(result) if callable(ok) else ok)
    return True
