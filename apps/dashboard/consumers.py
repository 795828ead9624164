"""Websockets of the dashboard pages: the site page and the portfolio. They forward the
fragments the pump rendered (``apps/dashboard/live.py``); they never query per event.
"""

from __future__ import annotations

from channels.db import database_sync_to_async

from apps.accounts.consumers import LiveConsumer, cached_fragment
from apps.accounts.selectors import site_visible_to, sites_visible_to
from apps.telemetry.live import site_group, site_key


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
        payload = await cached_fragment(site_key(site.pk))
        if payload:
            await self.send(text_data=payload["site_html"])

    async def telemetry_update(self, event):
        await self.forward(event["site_html"])

    async def alarms_update(self, event):
        await self.forward(event["site_html"])  # a new alarm's card goes on top of the site's list


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
            payload = await cached_fragment(site_key(pk))
            if payload:
                await self.send(text_data=payload["tile_html"])

    async def telemetry_update(self, event):
        await self.forward(event["tile_html"])

    async def alarms_update(self, event):
        """Tiles show alarms as the pump renders them, within a tick."""
