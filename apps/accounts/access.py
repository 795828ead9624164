"""Whether an open websocket may still show what it was opened for.

Access is checked when a socket connects; what can take it away later is recorded here,
in the cache (Redis), where every web process sees it:

- a per-person *access version*, changed when their site access is granted, changed or
  removed, when the account is deactivated, deleted, loses superuser status, or its
  password changes (``apps/accounts/receivers.py``);
- a per-session mark when that session logs out.

A consumer takes an ``AccessStamp`` before it checks access at connect, and before it
forwards each event asks ``access_unchanged``. If anything changed it closes the socket
(4403) and the page reloads, which checks access afresh.

The checks of one web process are read together (``_Reads``): one event reaches every
socket of a site at once, and a process holding hundreds of sockets would otherwise make
hundreds of cache round trips for it, each through a thread. A check waits for the next
read that starts after it was asked for, never for one already under way, so what it
answers is as fresh as a read of its own.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import uuid
import weakref
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


class _Reads:
    """The access checks of one event loop, read from the cache together: at most one read
    under way; the checks asked for meanwhile wait together for the next one."""

    def __init__(self) -> None:
        self.keys: set[str] = set()
        self.answer: asyncio.Future | None = None  # of the next read, not yet started
        self.reading = False
        self.task: asyncio.Task | None = None  # held: the loop keeps only a weak reference

    async def get_many(self, keys: list[str]) -> dict:
        if self.answer is None:
            self.answer = asyncio.get_running_loop().create_future()
            self.answer.add_done_callback(lambda f: f.cancelled() or f.exception())  # retrieved
            if not self.reading:
                self.reading = True
                self.task = asyncio.get_running_loop().create_task(self._read())
        self.keys.update(keys)
        values = await asyncio.shield(self.answer)
        return {k: values[k] for k in keys if k in values}

    async def _read(self) -> None:
        try:
            while self.answer is not None:
                keys, answer = list(self.keys), self.answer
                self.keys, self.answer = set(), None
                try:
                    answer.set_result(await cache.aget_many(keys))
                except asyncio.CancelledError:
                    answer.cancel()
                    raise
                except Exception as exc:
                    answer.set_exception(exc)
        finally:  # cancelled (the loop is closing): nothing waits for a read never made
            if self.answer is not None:
                self.answer.cancel()
            self.keys, self.answer, self.reading = set(), None, False


_reads: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Reads] = weakref.WeakKeyDictionary()


async def access_unchanged(stamp: AccessStamp | None) -> bool | None:
    """Whether nothing the socket's access depends on changed; None if the cache cannot
    be read (Redis down), for the socket to close and reconnect later, checking afresh."""
    if stamp is None:
        return False
    keys = [stamp.user_key, *([stamp.session_key] if stamp.session_key else [])]
    loop = asyncio.get_running_loop()
    reads = _reads.get(loop) or _reads.setdefault(loop, _Reads())
    try:
        values = await reads.get_many(keys)
    except Exception:
        return None  # cannot tell: close, and let the reconnect check afresh
    if stamp.session_key and values.get(stamp.session_key):
        return False
    return values.get(stamp.user_key) == stamp.version
