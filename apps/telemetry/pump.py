"""The telemetry pump: one read of InfluxDB per tick for every site, handed to whoever
needs live data (the dashboards now, alarm evaluation next).

Each tick asks InfluxDB once for the latest point of every series that has a point in
the last ``HEATOPS_PUMP_LOOKBACK`` (one query, whatever the number of sites or viewers),
merges it into the state it keeps (the newest point of each series wins, so a late or
out-of-order point never rolls a value back), and calls every handler named in
``HEATOPS_PUMP_HANDLERS`` with the resulting Snapshot. The first read after a start
looks back ``HEATOPS_PUMP_SEED_LOOKBACK`` so silent series are known, and shown stale.

Time is heatops' clock, never InfluxDB's: ``tick(now=...)`` stamps the snapshot and ends
the lookback window at ``now`` (the wall clock when not given), so a test, or a replay,
decides what "now" is and handlers judge staleness and alarm delays against it.
"""

from __future__ import annotations

import logging
import statistics
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.conf import settings
from django.utils.module_loading import import_string

from .influx.client import InfluxClient, get_client
from .influx.errors import InfluxError
from .influx.points import FieldValue
from .influx.results import Reading

log = logging.getLogger(__name__)

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


@dataclass
class Snapshot:
    """What the pump knows after one tick."""

    taken_at: datetime
    influx_ok: bool
    error: str = ""
    sites: dict[str, SiteReadings] = field(default_factory=dict)
    changed: set[str] = field(default_factory=set)  # sites with a new point this tick

    def site(self, slug: str) -> SiteReadings:
        return self.sites.get(slug) or SiteReadings(slug)


STALE_GRACE_MS = (1_500, 3_000)  # slack past an expected point: half an interval, within these


@dataclass
class Cadence:
    """How often a series' new points turn up, learnt from the last few: the interval
    between their times and how late each arrives (an agent that sends in batches). A
    point is overdue once the next one should have arrived: its age passes the usual lag
    plus the usual interval, plus a little slack, so a stopped series shows as stale
    within a few seconds of its first missed point rather than after a fixed half minute."""

    intervals: deque = field(default_factory=lambda: deque(maxlen=9))
    lags: deque = field(default_factory=lambda: deque(maxlen=9))

    def saw(self, *, interval_ms: int, lag_ms: int) -> None:
        self.intervals.append(interval_ms)
        self.lags.append(max(0, lag_ms))

    def stale_after_ms(self) -> int | None:
        if not self.intervals:
            return None
        interval, lag = statistics.median(self.intervals), statistics.median(self.lags)
        low, high = STALE_GRACE_MS
        return int(lag + interval + min(max(interval / 2, low), high))


def stale_after_ms(reading: Reading | None, *, default_s: float) -> int:
    """How old ``reading`` may be before it counts as stale: from its series' cadence
    when the pump knows it, else ``default_s``."""
    if reading is not None and reading.stale_after_ms:
        return reading.stale_after_ms
    return int(default_s * 1000)


class TelemetryPump:
    def __init__(
        self,
        *,
        client: InfluxClient | None = None,
        handlers: Iterable[Callable[[Snapshot], None]] | None = None,
        lookback: str | None = None,
        seed_lookback: str | None = None,
    ) -> None:
        self.client = client or get_client()
        if handlers is None:
            handlers = [import_string(path) for path in settings.HEATOPS_PUMP_HANDLERS]
        self.handlers = list(handlers)
        self.lookback = lookback or settings.HEATOPS_PUMP_LOOKBACK
        self.seed_lookback = seed_lookback or settings.HEATOPS_PUMP_SEED_LOOKBACK
        self.state: dict[str, SiteReadings] = {}
        self.cadence: dict[tuple[str, SeriesKey], Cadence] = {}
        self.seeded = False
        self.ticks = 0

    def read(self, *, now: datetime | None = None) -> Snapshot:
        """One read of InfluxDB, merged into the state; never raises for InfluxDB errors.

        ``now`` (this machine's clock by default) is the snapshot's time, which staleness
        and alarm timing are judged against, and the end the lookback counts back from.
        """
        now = now or datetime.now(UTC)
        try:
            readings = self.client.latest(
                lookback=self.lookback if self.seeded else self.seed_lookback,
                points=settings.HEATOPS_PUMP_POINTS if self.seeded else settings.HEATOPS_PUMP_SEED_POINTS,
                now=now,
            )
        except InfluxError as exc:
            return Snapshot(taken_at=now, influx_ok=False, error=str(exc), sites=self.state)
        changed = self.merge(readings, now=now if self.seeded else None)
        self.seeded = True
        return Snapshot(taken_at=now, influx_ok=True, sites=self.state, changed=changed)

    def merge(self, readings: list[Reading], *, now: datetime | None = None) -> set[str]:
        """Merge a read into the state: the newest point of each series wins. ``now`` is
        when this read was made, to learn each series' cadence from when its new points
        turn up (None for a first read, whose points may have been there for days).
        Returns the sites with a new point."""
        changed = set()
        now_ms = int(now.timestamp() * 1000) if now is not None else None
        for reading in readings:
            slug = reading.tags.get("site")
            if not slug:
                continue
            site = self.state.setdefault(slug, SiteReadings(slug))
            key = series_key(reading.measurement, reading.tags)
            known = site.series.get(key)
            if known is None:
                self.cadence[(slug, key)] = Cadence()
                site.series[key] = reading
                changed.add(slug)
                continue
            newer = {
                name: value
                for name, value in reading.fields.items()
                if reading.time_of(name) > known.time_of(name)
            }
            if not newer:
                continue
            cadence = self.cadence.setdefault((slug, key), Cadence())
            if reading.time_ms > known.time_ms and now_ms is not None:
                cadence.saw(interval_ms=reading.time_ms - known.time_ms, lag_ms=now_ms - reading.time_ms)
            # each field keeps its own newest value and time: a point carrying only some
            # of a series' fields does not blank the others
            fields = {**known.fields, **newer}
            field_ms = {name: known.time_of(name) for name in known.fields}
            field_ms.update((name, reading.time_of(name)) for name in newer)
            site.series[key] = Reading(
                reading.measurement,
                reading.tags,
                max(field_ms.values()),
                fields,
                field_ms,
                cadence.stale_after_ms(),
            )
            changed.add(slug)
        return changed

    def tick(self, *, now: datetime | None = None) -> Snapshot:
        """Read once (at ``now``, see ``read``) and hand the snapshot to every handler."""
        snapshot = self.read(now=now)
        for handler in self.handlers:
            try:
                handler(snapshot)
            except Exception:  # one failing consumer of the snapshot must not stop the others
                log.exception("pump handler %r failed", handler)
        self.ticks += 1
        return snapshot

    def run(self, *, tick_s: float | None = None, max_ticks: int | None = None) -> None:
        tick_s = tick_s or settings.HEATOPS_PUMP_TICK_S
        was_ok = True
        next_at = time.monotonic()
        while max_ticks is None or self.ticks < max_ticks:
            snapshot = self.tick()
            if snapshot.influx_ok != was_ok:
                (log.info if snapshot.influx_ok else log.warning)(
                    "InfluxDB %s", "is back" if snapshot.influx_ok else f"unreachable: {snapshot.error}"
                )
                was_ok = snapshot.influx_ok
            next_at += tick_s
            delay = next_at - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            else:
                next_at = time.monotonic()  # running late: do not try to catch up in a burst
