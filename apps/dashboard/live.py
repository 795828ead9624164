"""What the live pages show, computed once per tick for every viewer.

``publish`` is a telemetry pump handler: after each read of InfluxDB, for each active
site, it computes the status, renders the same template fragments the pages render on
first load, and, when they changed, keeps them in the cache (for pages that open or
reconnect later) and sends them to the site's group on the channel layer, whose consumers
forward them to the browsers. ``publish.pushed`` does the same between reads for the
sites whose points the ingest endpoint has just stored, with the alarms and maintenance
windows of the last read. Rendering happens here, once per site and update, not once
per viewer.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from channels.layers import get_channel_layer
from django.conf import settings
from django.core.cache import cache
from django.template.loader import render_to_string

from apps.alarms.selectors import open_alarms_for_sites
from apps.maintenance.selectors import active_windows_for_sites
from apps.sites.models import Site
from apps.telemetry.influx.client import get_client
from apps.telemetry.influx.errors import InfluxError
from apps.telemetry.live import (
    SYSTEM_GROUP,
    SYSTEM_KEY,
    SYSTEM_STATUS,
    TELEMETRY_UPDATE,
    SiteReadings,
    Snapshot,
    site_group,
    site_key,
)
from apps.telemetry.pump import site_readings_now

from .config import SiteConfig
from .status import SiteStatus, site_status

log = logging.getLogger(__name__)

CONFIG_REFRESH_S = 30
# A site whose points, alarms and maintenance windows have not changed, and none of whose
# numbers has turned stale, is rendered again after this long anyway.
RERENDER_S = 10


class LoopThread:
    """An event loop of its own in a background thread, for a sync process (the pump) to
    run coroutines on one long-lived loop, so their connection pools live on too."""

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pid = 0
        self._lock = threading.Lock()

    def run(self, coro, timeout: float = 10.0):
        with self._lock:
            if self._loop is None or self._pid != os.getpid():
                self._loop, self._pid = asyncio.new_event_loop(), os.getpid()
                threading.Thread(target=self._loop.run_forever, name="publisher-loop", daemon=True).start()
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout=timeout)


@dataclass
class SystemState:
    influx_ok: bool
    error: str = ""
    since_ms: int = 0


def render_site(status: SiteStatus) -> dict:
    """The fragments of one site, as the page and the websocket both show them."""
    context = {"status": status, "points_json": json.dumps(status.points)}
    return {
        "site_html": render_to_string("dashboard/_site_live.html", context),
        "tile_html": render_to_string("dashboard/_site_tile.html", context),
        "points": json.dumps(status.points),
        "newest_ms": status.newest_ms,
    }


def render_system(state: SystemState) -> str:
    return render_to_string("dashboard/_system_banner.html", {"system": state})


def load_configs() -> dict[int, SiteConfig]:
    sites = Site.objects.filter(is_active=True).prefetch_related("assets__parent")
    return {site.pk: SiteConfig.from_site(site) for site in sites}


class Publisher:
    def __init__(self) -> None:
        self.configs: dict[int, SiteConfig] = {}
        self.loaded_at = 0.0
        self.last: dict[int, dict] = {}
        self.since: dict[tuple[int, str], tuple[str, int]] = {}
        self.system: SystemState | None = None
        self.alarms: dict[int, list] = {}
        self.windows: dict[int, list] = {}
        self.due_ms: dict[int, int] = {}  # when a site's fragments may next change by themselves
        self.shown: dict[int, tuple] = {}  # the alarms and windows a site was last rendered with
        self.channel_ok = True
        self.loop = LoopThread()

    def _send(self, messages: list[tuple[str, dict]]) -> None:
        """Send one tick's messages together, on the publisher's own event loop: one
        async_to_sync call per message would open a new Redis connection each time
        (channels_redis keeps a connection pool per event loop)."""
        if not messages:
            return
        layer = get_channel_layer()

        async def send_all():
            await asyncio.gather(*(layer.group_send(group, message) for group, message in messages))

        try:
            self.loop.run(send_all())
            if not self.channel_ok:
                log.info("channel layer is back")
            self.channel_ok = True
        except Exception as exc:  # Redis down: keep computing, say so once, recover by itself
            if self.channel_ok:
                log.warning("cannot publish to the channel layer: %s", exc)
            self.channel_ok = False
            # nothing of this tick reached anyone: once Redis is back, send and cache every
            # site again (a restarted Redis has lost the cached fragments too)
            self.last.clear()
            self.system = None

    def _remember(self, values: dict) -> None:
        if not values:
            return
        try:
            cache.set_many(values, timeout=None)
        except Exception as exc:
            log.debug("cache unavailable: %s", exc)

    def _track_since(self, status: SiteStatus, now_ms: int) -> None:
        for q in status.questions:
            key = (status.site.pk, q.key)
            level, since = self.since.get(key, (None, now_ms))
            if level != q.level:
                since = now_ms
                self.since[key] = (q.level, since)
            q.since_ms = since

    def _shown(self, pk: int) -> tuple:
        return (
            tuple((a.pk, a.updated_at) for a in self.alarms.get(pk, [])),
            tuple((w.pk, w.banner_text) for w in self.windows.get(pk, [])),
        )

    def _needs_render(self, pk: int, cfg: SiteConfig, snapshot: Snapshot, now_ms: int) -> bool:
        """Whether anything the site's fragments show may have changed since they were last
        rendered: a new point, its open alarms or maintenance windows, a number turning
        stale; else nothing is rendered for it (with hundreds of sites, most have no new
        point in a given tick)."""
        return (
            cfg.slug in snapshot.changed
            or pk not in self.last
            or now_ms >= self.due_ms.get(pk, 0)
            or self.shown.get(pk) != self._shown(pk)
        )

    def _site(self, pk: int, cfg: SiteConfig, snapshot: Snapshot, now_ms: int) -> dict | None:
        """The site's fragments if they differ from those sent last (then kept as sent)."""
        readings = snapshot.site(cfg.slug)
        stale_at = readings.next_stale_ms(now_ms, default_s=settings.HEATOPS_STALE_AFTER_S)
        self.due_ms[pk] = min(stale_at or now_ms + RERENDER_S * 1000, now_ms + RERENDER_S * 1000)
        self.shown[pk] = self._shown(pk)
        status = site_status(
            cfg,
            readings,
            now=snapshot.taken_at,
            stale_after_s=settings.HEATOPS_STALE_AFTER_S,
            alarms=self.alarms.get(pk, []),
        )
        status.maintenance = self.windows.get(pk, [])
        self._track_since(status, now_ms)
        payload = render_site(status)
        if payload == self.last.get(pk):
            return None
        self.last[pk] = payload
        return payload

    def _publish(
        self, sites: dict[int, SiteConfig], snapshot: Snapshot, messages: list, cached: dict
    ) -> None:
        now_ms = int(snapshot.taken_at.timestamp() * 1000)
        for pk, cfg in sites.items():
            payload = self._site(pk, cfg, snapshot, now_ms)
            if payload is not None:
                cached[site_key(pk)] = payload
                messages.append((site_group(pk), {"type": TELEMETRY_UPDATE, **payload}))
        self._remember(cached)
        self._send(messages)

    def __call__(self, snapshot: Snapshot) -> None:
        """After a read of InfluxDB: every active site that may show something new (see
        ``_needs_render``), with the open alarms and maintenance windows as they are now."""
        if time.monotonic() - self.loaded_at > CONFIG_REFRESH_S or not self.configs:
            self.configs = load_configs()
            self.loaded_at = time.monotonic()
            self.due_ms.clear()  # a site's name, assets or limits may have changed
        messages: list[tuple[str, dict]] = []
        cached: dict = {}
        system = SystemState(snapshot.influx_ok, snapshot.error, int(snapshot.taken_at.timestamp() * 1000))
        if self.system is None or system.influx_ok != self.system.influx_ok:
            self.system = system
            html = render_system(system)
            cached[SYSTEM_KEY] = html
            messages.append((SYSTEM_GROUP, {"type": SYSTEM_STATUS, "html": html}))
        self.alarms = open_alarms_for_sites(list(self.configs))
        self.windows = active_windows_for_sites(list(self.configs), at=snapshot.taken_at)
        now_ms = int(snapshot.taken_at.timestamp() * 1000)
        due = {pk: cfg for pk, cfg in self.configs.items() if self._needs_render(pk, cfg, snapshot, now_ms)}
        self._publish(due, snapshot, messages, cached)

    def pushed(self, snapshot: Snapshot) -> None:
        """After points the ingest endpoint pushed: only the sites they changed, with the
        alarms and windows of the last read (no query: this runs for every batch)."""
        if not self.configs:
            return  # before the first tick: that tick publishes these points too
        sites = {pk: cfg for pk, cfg in self.configs.items() if cfg.slug in snapshot.changed}
        self._publish(sites, snapshot, [], {})


publish = Publisher()


def current_site_readings(site: Site, *, now: datetime) -> SiteReadings:
    """The site's latest readings read from InfluxDB now (one query); empty if it is down."""
    try:
        return site_readings_now(site.slug, now=now)
    except InfluxError:
        return SiteReadings(site.slug)


def current_site_payload(site: Site) -> dict:
    """The latest fragments for a page being opened: from the cache the pump keeps, or,
    if the pump has not published this site yet, computed now from InfluxDB."""
    try:
        payload = cache.get(site_key(site.pk))
    except Exception:
        payload = None
    if payload:
        return payload
    now = datetime.now(UTC)
    status = site_status(
        SiteConfig.from_site(site),
        current_site_readings(site, now=now),
        now=now,
        stale_after_s=settings.HEATOPS_STALE_AFTER_S,
        alarms=open_alarms_for_sites([site.pk]).get(site.pk, []),
    )
    status.maintenance = active_windows_for_sites([site.pk], at=now).get(site.pk, [])
    return render_site(status)


def current_system_html() -> str:
    try:
        html = cache.get(SYSTEM_KEY)
    except Exception:
        html = None
    if html is not None:
        return html
    return render_system(SystemState(get_client().ping()))
