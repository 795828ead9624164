"""The alarm list's websocket (``/ws/alarms/``): changes to the alarms of the person's
sites, as ``services.py`` renders and sends them to the sites' groups."""

from __future__ import annotations

from urllib.parse import parse_qs

from channels.db import database_sync_to_async

from apps.accounts.consumers import LiveConsumer
from apps.accounts.selectors import sites_visible_to
from apps.telemetry.live import site_group

from .selectors import MAINTENANCE_FILTERS


class AlarmListConsumer(LiveConsumer):
    """The alarm list: changes to alarms of the person's sites that match the page's filters."""

    async def connect(self):
        if not await self.authenticated():
            return
        user = self.scope["user"]
        query = parse_qs(self.scope.get("query_string", b"").decode())
        self.filters = {
            k: v[0] for k, v in query.items() if k in {"site", "severity", "domain", "state", "maintenance"} and v[0]
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
        held = MAINTENANCE_FILTERS.get(self.filters.get("maintenance", ""))
        if held is not None and event["fired"] and event["in_maintenance"] != held:
            return False  # a new alarm of the other kind; a card shown already keeps updating
        state = self.filters.get("state")
        if state == "open":
            return True  # show it change, resolved included, until the page is reloaded
        return not state or event["state"] == state

    async def telemetry_update(self, event):
        pass

    async def alarms_update(self, event):
        if not self._matches(event):
            return
        await self.forward(event["list_html"])  # a new alarm's card goes on top of the list
