"""The telemetry pump: one read of InfluxDB per tick for every site, handed to whoever
needs live data (alarm evaluation, the InfluxDB watch, the live pages).

Each tick asks InfluxDB once for the latest point of every series that has a point in
the last ``HEATOPS_PUMP_LOOKBACK`` (one query, whatever the number of sites or viewers),
merges it into the state it keeps (the newest point of each series wins, so a late or
out-of-order point never rolls a value back), and calls the tick handlers with the
resulting Snapshot. The first read after a start looks back ``HEATOPS_PUMP_SEED_LOOKBACK``
so silent series are known, and shown stale.

Between ticks it waits for the points heatops' ingest endpoint has just stored
(``push.py``), merges them the same way and calls the push handlers with the sites they
changed, so those points are on the pages at once rather than at the next read. Which
handlers run, and in which order, is one list (``HEATOPS_PUMP_PIPELINE``, heatops/pipeline.py).

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
from redis.exceptions import RedisError

from .influx.client import InfluxClient, get_client
from .influx.errors import InfluxError
from .influx.results import Reading
from .live import SeriesKey, SiteReadings, Snapshot, series_key
from .push import PushedPoints, readings_of

log = logging.getLogger(__name__)

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


Handler = Callable[[Snapshot], None]


def pipeline() -> tuple[list[Handler], list[Handler]]:
    """The tick handlers and the push handlers, in their order (HEATOPS_PUMP_PIPELINE)."""
    return (
        list(import_string(settings.HEATOPS_PUMP_PIPELINE + ".TICK_HANDLERS")),
        list(import_string(settings.HEATOPS_PUMP_PIPELINE + ".PUSH_HANDLERS")),
    )


class TelemetryPump:
    def __init__(
        self,
        *,
        client: InfluxClient | None = None,
        handlers: Iterable[Handler] | None = None,
        push_handlers: Iterable[Handler] | None = None,
        lookback: str | None = None,
        seed_lookback: str | None = None,
    ) -> None:
        """``handlers`` get every tick's snapshot, ``push_handlers`` every pushed one;
        both default to the pipeline's (``handlers`` alone given: no push handlers)."""
        self.client = client or get_client()
        if handlers is None:
            handlers, default_push = pipeline()
            push_handlers = default_push if push_handlers is None else push_handlers
        self.handlers = list(handlers)
        self.push_handlers = list(push_handlers or [])
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

    def _call(self, handlers: list[Handler], snapshot: Snapshot) -> None:
        for handler in handlers:
            try:
                handler(snapshot)
            except Exception:  # one failing consumer of the snapshot must not stop the others
                log.exception("pump handler %r failed", handler)

    def tick(self, *, now: datetime | None = None) -> Snapshot:
        """Read once (at ``now``, see ``read``) and hand the snapshot to every tick handler."""
        snapshot = self.read(now=now)
        self._call(self.handlers, snapshot)
        self.ticks += 1
        return snapshot

    def take_pushed(self, batches: list[bytes], *, now: datetime | None = None) -> Snapshot | None:
        """Merge batches the ingest endpoint pushed (``push.py``) and hand the sites they
        changed to the push handlers. Before the first read, nothing: that read seeds the
        state, and reads these points too. None if nothing was new."""
        if not self.seeded:
            return None
        now = now or datetime.now(UTC)
        readings = [reading for batch in batches for reading in readings_of(batch)]
        changed = self.merge(readings, now=now)
        if not changed:
            return None
        snapshot = Snapshot(taken_at=now, influx_ok=True, sites=self.state, changed=changed, pushed=True)
        self._call(self.push_handlers, snapshot)
        return snapshot

    def run(self, *, tick_s: float | None = None, max_ticks: int | None = None) -> None:
        """Tick every ``tick_s``; in between, take what the ingest endpoint pushes as it
        comes (or just sleep, while Redis is unreachable or nothing handles pushes)."""
        tick_s = tick_s or settings.HEATOPS_PUMP_TICK_S
        pushed = PushedPoints(max_wait_s=tick_s) if self.push_handlers else None
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
            if next_at - time.monotonic() <= 0:
                next_at = time.monotonic()  # running late: do not try to catch up in a burst
            if pushed is None:
                time.sleep(max(next_at - time.monotonic(), 0))
                continue
            if next_at - time.monotonic() <= 0 and pushed.ok:
                # running late: still take what the endpoint pushed, without waiting; else,
                # while ticks take longer than tick_s, pushed points would wait in Redis
                # for the next read, and the push only add work when it did come
                self._wait_pushed(pushed, 0)
            while (delay := next_at - time.monotonic()) > 0:
                self._wait_pushed(pushed, delay)

    def _wait_pushed(self, pushed: PushedPoints, delay: float) -> None:
        try:
            batches = pushed.wait(delay)
            if not pushed.ok:
                log.info("pushed points: Redis is back")
            pushed.ok = True
        except (RedisError, OSError) as exc:
            if pushed.ok:
                log.warning("pushed points: Redis unreachable, reading InfluxDB only: %s", exc)
            pushed.ok = False
            time.sleep(min(delay, 1.0))
            return
        if batches:
            self.take_pushed(batches)


def site_readings_now(slug: str, *, now: datetime, client: InfluxClient | None = None) -> SiteReadings:
    """One site's latest readings read from InfluxDB now, as the pump's first read after a
    start would know them (one query; no cadence learnt yet). Raises InfluxError."""
    pump = TelemetryPump(client=client, handlers=[])
    readings = pump.client.latest(
        lookback=pump.seed_lookback,
        points=settings.HEATOPS_PUMP_SEED_POINTS,
        tags={"site": slug},
        now=now,
    )
    pump.merge(readings)
    return pump.state.get(slug) or SiteReadings(slug)
