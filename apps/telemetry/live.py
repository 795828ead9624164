"""The names every part of the live path shares: what the telemetry pump hands its
handlers (``Snapshot`` of ``SiteReadings``), the channel layer's groups and event types,
and the cache keys of the latest fragments.

The live path, end to end:

    agents --POST /ingest--> apps.ingest (spool, InfluxDB) --apps.telemetry.push--+
    agents --straight into InfluxDB--> InfluxDB --one read per tick--+            |
                                                                    v            v
                         apps.telemetry.pump.TelemetryPump: merge, newest point wins
                           | handlers, in the order of heatops.pipeline
                           v
    apps.alarms (evaluate, influx_watch)      apps.dashboard.live.publish
           | ALARMS_UPDATE                         | TELEMETRY_UPDATE, SYSTEM_STATUS
           +--------------> site_group(pk), SYSTEM_GROUP <-------+
                                   |
    consumers (apps.dashboard, apps.alarms) --> browsers

Channels calls a consumer's method named after the event type with the dot made an
underscore: ``telemetry.update`` reaches ``telemetry_update``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from .influx.points import FieldValue
from .influx.results import Reading

# --- groups on the channel layer ------------------------------------------------------

SYSTEM_GROUP = "system"  # every live socket: the InfluxDB banner


def site_group(site_pk: int) -> str:
    """Every socket showing anything of one site: its page, the portfolio, the alarm list."""
    return f"site.{site_pk}"


# --- event types sent to those groups ---------------------------------------------------

TELEMETRY_UPDATE = "telemetry.update"  # a site's fragments (site_html, tile_html, points)
ALARMS_UPDATE = "alarms.update"  # one alarm's card, after any change of its state
SYSTEM_STATUS = "system.status"  # the InfluxDB banner (html)

# --- the cache of the latest fragments, for sockets that open or reconnect --------------

SYSTEM_KEY = "live:system"


def site_key(site_pk: int) -> str:
    return f"live:site:{site_pk}"


# --- what the pump knows ----------------------------------------------------------------

SeriesKey = tuple[str, tuple[tuple[str, str], ...]]


def series_key(measurement: str, tags: dict[str, str]) -> SeriesKey:
    return measurement, tuple(sorted((k, v) for k, v in tags.items() if k != "site"))


@dataclass
class SiteReadings:
    """The latest reading of each series of one site, with helpers to read them."""

    slug: str
    series: dict[SeriesKey, Reading] = field(default_factory=dict)

    def find(self, measurement: str, **tags: str) -> list[Reading]:
        wanted = set(tags.items())
        return [r for (m, t), r in self.series.items() if m == measurement and wanted <= set(t)]

    def one(self, measurement: str, **tags: str) -> Reading | None:
        found = self.find(measurement, **tags)
        return max(found, key=lambda r: r.time_ms) if found else None

    def value(self, measurement: str, field_name: str, **tags: str) -> FieldValue | None:
        reading = self.one(measurement, **tags)
        return None if reading is None else reading.fields.get(field_name)

    def total(self, measurement: str, field_name: str) -> float | None:
        values = [r.fields[field_name] for r in self.find(measurement) if field_name in r.fields]
        return float(sum(values)) if values else None

    @property
    def newest_ms(self) -> int | None:
        return max((r.time_ms for r in self.series.values()), default=None)

    def next_stale_ms(self, now_ms: int, *, default_s: float) -> int | None:
        """When the next of this site's numbers turns stale (the first moment its age is
        past its series' limit), if any is still fresh at ``now_ms``: until then nothing
        shown of the site changes without a new point."""
        default_ms = int(default_s * 1000)
        turns = [
            t + (r.stale_after_ms or default_ms) + 1
            for r in self.series.values()
            for t in {r.time_ms, *r.field_ms.values()}
        ]
        return min((t for t in turns if t > now_ms), default=None)


@dataclass
class Snapshot:
    """What the pump knows after one tick, or after points pushed by the ingest endpoint
    (``pushed``: only ``changed`` sites got anything new, and InfluxDB was not read)."""

    taken_at: datetime
    influx_ok: bool
    error: str = ""
    sites: dict[str, SiteReadings] = field(default_factory=dict)
    changed: set[str] = field(default_factory=set)  # sites with a new point
    pushed: bool = False

    def site(self, slug: str) -> SiteReadings:
        return self.sites.get(slug) or SiteReadings(slug)
