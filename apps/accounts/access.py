"""Whether an open websocket may still show what it was opened for.

Access is checked when a socket connects; what can take it away later is recorded here,
in the cache (Redis), where every web process sees it:

- a per-person *access version*, changed when their site access is granted, changed or
  removed, when the account is deactivated, deleted, loses superuser status, or its
  password changes (``apps/accounts/receivers.py``);
- a per-session mark when that session logs out.

A consumer takes an ``AccessStamp`` before it checks access at connect, and before it
forwards each event asks ``access_unchanged``: one cache round trip. If anything changed
it closes the socket (4403) and the page reloads, which checks access afresh.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache

log = logging.getLogger(__name__)


def _user_key(user_id: int) -> str:
    return f"access:version:{user_id}"


def _session_key(session_key: str) -> str:
    return f"access:ended:{hashlib.sha256(session_key.encode()).hexdigest()[:32]}"


def access_changed(*, user_id: int) -> None:
    """What this person may see has changed: their open sockets close on their next event."""
    try:
        cache.set(_user_key(user_id), uuid.uuid4().hex, timeout=None)
    except Exception:
        log.exception("could not record an access change of user %s: open websockets keep going", user_id)


def session_ended(*, session_key: str | None) -> None:
    """This session logged out: its open sockets close on their next event."""
    if not session_key:
        return
    try:
        cache.set(_session_key(session_key), 1, timeout=settings.SESSION_COOKIE_AGE)
    except Exception:
        log.exception("could not record a log-out: that session's open websockets keep going")


@dataclass(frozen=True)
class AccessStamp:
    user_key: str
    version: str | None
    session_key: str | None


async def access_stamp(scope) -> AccessStamp | None:
    """What the socket's access depends on, as it stands now; None if unknown (the
    cache is down), which the socket treats as changed."""
    user = scope.get("user")
    session = scope.get("session")
    key = _user_key(user.pk)
    session_key = _session_key(session.session_key) if session is not None and session.session_key else None
    try:
        version = await cache.aget(key)
    except Exception:
        return None
    return AccessStamp(key, version, session_key)


async def access_unchanged(stamp: AccessStamp | None) -> bool | None:
    """Whether nothing the socket's access depends on changed; None if the cache cannot
    be read (Redis down), for the socket to close and reconnect later, checking afresh."""
    if stamp is None:
        return False
    keys = [stamp.user_key, *([stamp.session_key] if stamp.session_key else [])]
    try:
        values = await cache.aget_many(keys)
    except Exception:
        return None  # cannot tell: close, and let the reconnect check afresh
    if stamp.session_key and values.get(stamp.session_key):
        return False
    return values.get(stamp.user_key) == stamp.version
