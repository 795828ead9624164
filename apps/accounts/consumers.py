"""The websocket every live page builds on: access checked at connect and again before
every event is forwarded (one cache read, ``access.py``). Once the person's site access,
account or session changes, the socket closes with 4403 instead, and the page reloads,
checking access afresh. The pages' own consumers (``apps.dashboard``, ``apps.alarms``)
say which site groups to join and what of each event to forward; they never query per
event and never render: the fragments come rendered in the events.
"""

from __future__ import annotations

import logging

from channels.generic.websocket import AsyncWebsocketConsumer
from django.core.cache import cache
from redis.exceptions import RedisError

from apps.telemetry.live import SYSTEM_GROUP, SYSTEM_KEY

from .access import access_stamp, access_unchanged


async def cached_fragment(key: str):
    """A fragment the pump cached, or None (not there yet, or the cache is down)."""
    try:
        return await cache.aget(key)
    except Exception:
        return None


ACCESS_CHANGED = 4403
# The channel layer (Redis) is unreachable: the socket closes with 4503 ("try again
# later"; a server may send only 1000 or 3000-4999), the page shows "live connection lost"
# and static/js/live.js reconnects it by itself, with backoff, without a reload.
TRY_AGAIN_LATER = 4503
log = logging.getLogger(__name__)


class LiveConsumer(AsyncWebsocketConsumer):
    """Common to every live page: take the access stamp, check access, join groups, accept
    last, then send the current state at once so a new or reconnecting browser is up to
    date. Every handler forwards only through ``forward``, which re-checks access."""

    groups_joined: list[str]
    access = None
    revoked = False

    async def __call__(self, scope, receive, send):
        """Redis going away while the socket is open ends the consumer's receive loop:
        close the socket for the browser to reconnect, with a warning, not a traceback."""
        try:
            return await super().__call__(scope, receive, send)
        except (ConnectionError, OSError, RedisError) as exc:
            log.warning("live socket closed, the channel layer is unreachable: %s", exc)
            try:
                await send({"type": "websocket.close", "code": TRY_AGAIN_LATER})
            except Exception:
                pass

    async def authenticated(self) -> bool:
        """A logged-in person; the stamp is taken before access is checked, so a change
        made during the check closes the socket at its first event."""
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=4401)
            return False
        self.access = await access_stamp(self.scope)
        if self.access is None:  # the cache (Redis) is down: nothing live to show; retry later
            await self.close(code=TRY_AGAIN_LATER)
            return False
        return True

    async def forward(self, text: str) -> None:
        if self.revoked:
            return
        unchanged = await access_unchanged(self.access)
        if unchanged is None:  # cannot tell (Redis down): reconnect, which checks afresh
            self.revoked = True
            await self.close(code=TRY_AGAIN_LATER)
            return
        if not unchanged:
            self.revoked = True
            await self.leave()
            await self.close(code=ACCESS_CHANGED)
            return
        await self.send(text_data=text)

    async def join(self, groups: list[str]) -> bool:
        self.groups_joined = [*groups, SYSTEM_GROUP]
        try:
            for group in self.groups_joined:
                await self.channel_layer.group_add(group, self.channel_name)
        except (ConnectionError, OSError, RedisError) as exc:
            log.warning("live socket refused, the channel layer is unreachable: %s", exc)
            self.groups_joined = []
            await self.close(code=TRY_AGAIN_LATER)
            return False
        await self.accept()
        system = await cached_fragment(SYSTEM_KEY)
        if system:
            await self.send(text_data=system)
        return True

    async def leave(self) -> None:
        for group in getattr(self, "groups_joined", []):
            await self.channel_layer.group_discard(group, self.channel_name)
        self.groups_joined = []

    async def disconnect(self, code):
        await self.leave()

    async def system_status(self, event):
        await self.forward(event["html"])
