"""Tokens the ingest endpoint's lean route may take without asking the database.

A token is remembered, in the web process that checked it, once the database has found
it active on an active site (``ingest_token_authenticate``). The lean route
(``fastpath.py``) takes a remembered token only while

- it was checked less than ``TTL_S`` ago (so the database, and ``last_used_at``, still
  see the token every few seconds), and
- the tokens' *generation* in Redis (``REDIS_URL``) is the one read before that
  check. Every change to a token or a site (a revocation, a deactivation, a deletion)
  writes a new generation once its transaction commits, so every web process forgets
  every remembered token at its next request.

If Redis cannot be read, nothing is taken from memory: the request goes the whole way
through Django and the database. (One client is kept per process: Django's cache
builds a redis-py client per call, which costs more than the rest of the lean route.)
"""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass

import redis
from django.conf import settings
from django.db import transaction

GENERATION_KEY = "heatops:ingest:tokens:generation"
TTL_S = 10.0
MAX_ENTRIES = 10_000


@dataclass(frozen=True, slots=True)
class KnownToken:
    site_slug: str
    generation: str | None
    checked_at: float  # time.monotonic()


_known: dict[str, KnownToken] = {}
_lock = threading.Lock()
_redis: tuple[str, redis.Redis] | None = None


def _client() -> redis.Redis:
    global _redis
    url = settings.REDIS_URL
    with _lock:
        if _redis is None or _redis[0] != url:
            _redis = (url, redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2))
        return _redis[1]


def generation() -> str | None:
    """The tokens' current generation (None if none was ever written); raises if Redis
    is unreachable."""
    value = _client().get(GENERATION_KEY)
    return None if value is None else value.decode()


def remember(digest: str, *, site_slug: str, seen_generation: str | None) -> None:
    with _lock:
        if len(_known) >= MAX_ENTRIES:
            _known.clear()
        _known[digest] = KnownToken(site_slug, seen_generation, time.monotonic())


def known_site(digest: str) -> str | None:
    """The slug of the active site the token ``digest`` may write to, if this process
    checked it recently and nothing changed since; else None (ask the database)."""
    entry = _known.get(digest)
    if entry is None or time.monotonic() - entry.checked_at > TTL_S:
        return None
    try:
        current = generation()
    except Exception:  # the shared cache is down: trust only the database
        return None
    return entry.site_slug if current == entry.generation else None


def forget_all() -> None:
    with _lock:
        _known.clear()


def _new_generation() -> None:
    forget_all()
    try:
        _client().set(GENERATION_KEY, uuid.uuid4().hex)
    except Exception:  # unreachable: the other processes' entries lapse after TTL_S
        pass


def tokens_changed(**_kwargs) -> None:
    """Signal receiver for every save and delete of a token or a site: this process
    forgets at once, the others once the change is committed."""
    forget_all()
    transaction.on_commit(_new_generation)
