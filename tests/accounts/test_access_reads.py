"""The access checks of one web process are read from the cache (the real Redis) together,
and each is answered as freshly as a read of its own: a check asked for while a read is
under way waits for the next read, so a change made meanwhile is seen."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest
from asgiref.sync import sync_to_async
from django.core.cache import cache

from apps.accounts.access import access_changed, access_stamp, access_unchanged
from heatops.devservices.base import free_port

pytestmark = pytest.mark.asyncio


def scope(user_pk: int, session_key: str) -> dict:
    return {"user": SimpleNamespace(pk=user_pk), "session": SimpleNamespace(session_key=session_key)}


@pytest.fixture
def reads(monkeypatch):
    """Every read of the cache the checks make: the keys read, in order."""
    made: list[list[str]] = []
    real = cache.aget_many

    async def counted(keys, *args, **kwargs):
        made.append(sorted(keys))
        return await real(keys, *args, **kwargs)

    monkeypatch.setattr(cache, "aget_many", counted)
    return made


async def test_checks_asked_for_together_are_one_read_each_with_its_own_answer(reads):
    stamps = [await access_stamp(scope(9000 + n % 5, f"session-{n}")) for n in range(40)]
    await sync_to_async(access_changed)(user_id=9003)

    answers = await asyncio.gather(*(access_unchanged(stamp) for stamp in stamps))

    assert len(reads) == 1
    assert len(reads[0]) == 5 + 40  # five people's versions, forty sessions' log-out marks
    assert answers == [n % 5 != 3 for n in range(40)]


async def test_a_check_asked_for_during_a_read_waits_for_the_next_and_sees_a_change_made_meanwhile(
    monkeypatch,
):
    real = cache.aget_many
    entered, release = asyncio.Event(), asyncio.Event()

    async def slow(keys, *args, **kwargs):
        values = await real(keys, *args, **kwargs)
        entered.set()
        await release.wait()
        return values

    monkeypatch.setattr(cache, "aget_many", slow)
    stamp = await access_stamp(scope(9100, "session-a"))
    first = asyncio.create_task(access_unchanged(stamp))
    await entered.wait()  # the first read has been made, and is not answered yet
    await sync_to_async(access_changed)(user_id=9100)
    second = asyncio.create_task(access_unchanged(stamp))
    await asyncio.sleep(0.05)
    release.set()

    assert await first is True  # read before the change
    assert await second is False  # asked for after the read began: a read of its own


async def test_redis_down_answers_cannot_tell_to_every_check_waiting(settings):
    stamps = [await access_stamp(scope(9200 + n, f"session-{n}")) for n in range(3)]
    settings.CACHES = {  # the cache's Redis gone: nothing listens on its port any more
        "default": {**settings.CACHES["default"], "LOCATION": f"redis://127.0.0.1:{free_port()}/0"}
    }

    assert await asyncio.gather(*(access_unchanged(s) for s in stamps)) == [None, None, None]
