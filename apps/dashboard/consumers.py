"""Websockets of the live pages. They forward what the pump rendered; they never query.

Access is checked at connect and again before every event is forwarded (one cache read,
``apps/accounts/access.py``): once the person's site access, account or session changes,
the socket closes with 4403 instead, and the page reloads, checking access afresh.
"""

from __future__ import annotations

import logging

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.core.cache import cache
from redis.exceptions import RedisError

from apps.accounts.access import access_stamp, access_unchanged
from apps.accounts.selectors import site_visible_to, sites_visible_to

from .live import SYSTEM_GROUP, SYSTEM_KEY, site_group, site_key


async def _cached(key: str):
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
        system = await _cached(SYSTEM_KEY)
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


class SiteConsumer(LiveConsumer):
    async def connect(self):
        if not await self.authenticated():
            return
        user = self.scope["user"]
        site = await database_sync_to_async(site_visible_to)(user, self.scope["url_route"]["kwargs"]["slug"])
        if site is None:
            await self.close(code=4403)
            return
        if not await self.join([site_group(site.pk)]):
            return
        payload = await _cached(site_key(site.pk))
        if payload:
            await self.send(text_data=payload["site_html"])

    async def telemetry_update(self, event):
        await self.forward(event["site_html"])

    async def alarms_update(self, event):
        html = event["html"]
        if event["fired"]:  # a new alarm goes on top of the site's list
            html = f'<div hx-swap-oob="afterbegin:#site-alarms-{event["site_slug"]}">{html}</div>'
        await self.forward(html)


class PortfolioConsumer(LiveConsumer):
    async def connect(self):
        if not await self.authenticated():
            return
        user = self.scope["user"]
        pks = await database_sync_to_async(
            lambda: list(sites_visible_to(user).values_list("pk", flat=True))
        )()
        if not await self.join([site_group(pk) for pk in pks]):
            return
        for pk in pks:
            payload = await _cached(site_key(pk))
            if payload:
                await self.send(text_data=payload["tile_html"])

    async def telemetry_update(self, event):
        await self.forward(event["tile_html"])

    async def alarms_update(self, event):
        """Tiles show alarms as the pump renders them, within a tick."""


class AlarmListConsumer(LiveConsumer):
    """The alarm list: changes to alarms of the person's sites that match the page's filters."""

    async def connect(self):
        if not await self.authenticated():
            return
        user = self.scope["user"]
        from urllib.parse import parse_qs

        query = parse_qs(self.scope.get("query_string", b"").decode())
        self.filters = {
            k: v[0] for k, v in query.items() if k in {"site", "severity", "domain", "state"} and v[0]
        }
        sites = sites_visible_to(user)
        if "site" in self.filters:
            sites = sites.filter(slug=self.filters["site"])
        pks = await database_sync_to_async(lambda: list(sites.values_list("pk", flat=True)))()
        await self.join([site_group(pk) for pk in pks])

    def _matches(self, event) -> bool:
        for key in ("severity", "domain"):
            if key in self.filters and event[key] != self.filters[key]:
                return False
        state = self.filters.get("state")
        if state == "open":
            return True  # show it change, resolved included, until the page is reloaded
        return not state or event["state"] == state

    async def telemetry_update(self, event):
        pass

    async def alarms_update(self, event):
        if not self._matches(event):
            return
        html = event["html"]
        if event["fired"]:
            html = f'<div hx-swap-oob="afterbegin:#alarm-list">{html}</div>'
        await self.forward(html)
