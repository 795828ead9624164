"""Backfill: the history of a window written as fast as InfluxDB takes it, the sites shared
among forked workers, faults recorded in the window replayed where they happened.

Every point goes through ``apps.telemetry.influx.client.get_client().write()``; nothing
here builds line protocol or InfluxQL.
"""

from __future__ import annotations

import gc
import math
import multiprocessing
import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.utils import timezone

from apps.telemetry.influx.client import get_client, reset_client
from apps.telemetry.influx.points import Point

from .exceptions import SimulatorError
from .physics import SiteModel
from .selectors import FaultSchedule, fault_schedule
from .specs import SiteSpec

Report = Callable[[str], None]

BACKFILL_BATCH = 10_000  # lines per /write request
DAY_S = 86400.0


@dataclass
class BackfillResult:
    points: int
    seconds: float
    start: datetime
    end: datetime
    workers: int


@dataclass(frozen=True)
class _BackfillPlan:
    """What every backfill worker needs to know; plain data, so a forked worker has it all."""

    start_s: float
    end_s: float
    step: float
    seed: int
    schedule: FaultSchedule

    @property
    def days(self) -> int:
        return max(1, math.ceil((self.end_s - self.start_s) / DAY_S - 1e-9))


class _BatchWriter:
    """Writes batches on a thread of its own, so InfluxDB ingests one batch while the
    model computes the next; the bounded queue keeps memory flat over months."""

    def __init__(self) -> None:
        self.client = get_client()
        self.queue: queue.Queue[list[Point] | None] = queue.Queue(maxsize=4)
        self.error: Exception | None = None
        self.written = 0
        self.thread = threading.Thread(target=self._run, name="simulator-backfill-writer", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while (batch := self.queue.get()) is not None:
            if self.error is None:  # after an error, keep draining so the producer never blocks
                try:
                    self.written += self.client.write(batch, batch_size=len(batch))
                except Exception as exc:  # raised again in the producer's thread
                    self.error = exc

    def put(self, batch: list[Point]) -> None:
        if self.error is not None:
            raise self.error
        self.queue.put(batch)

    def close(self) -> int:
        self.queue.put(None)
        self.thread.join()
        if self.error is not None:
            raise self.error
        return self.written


def _backfill_sites(
    specs: Sequence[SiteSpec], plan: _BackfillPlan, day_done: Callable[[int, int], None]
) -> int:
    """Step these sites through the plan's window, day by day, writing as it goes.

    The cyclic garbage collector is paused meanwhile: the loop makes millions of
    short-lived objects (points and their field dicts) without cycles, and scanning them
    cost about a third of the backfill's time.
    """
    models = [SiteModel(spec, seed=plan.seed) for spec in specs]
    writer = _BatchWriter()
    total_steps = int((plan.end_s - plan.start_s) // plan.step)
    collecting = gc.isenabled()
    gc.disable()
    try:
        for day in range(plan.days):
            first = int(day * DAY_S // plan.step) + 1
            last = min(int((day + 1) * DAY_S // plan.step), total_steps)
            day_points = 0
            for model in models:
                slug, step, t0 = model.spec.slug, plan.step, plan.start_s
                batch: list[Point] = []
                for k in range(first, last + 1):
                    moment = t0 + k * step
                    batch += model.step(
                        datetime.fromtimestamp(moment, tz=UTC), step, faults=plan.schedule.at(slug, moment)
                    )
                    if len(batch) >= BACKFILL_BATCH:
                        day_points += len(batch)
                        writer.put(batch)
                        batch = []
                if batch:
                    day_points += len(batch)
                    writer.put(batch)
            day_done(day, day_points)
    finally:
        if collecting:
            gc.enable()
        written = writer.close()
    return written


def _backfill_worker(specs: Sequence[SiteSpec], plan: _BackfillPlan, events) -> None:
    """A forked worker: its own InfluxDB connections, progress and errors as messages."""
    try:
        reset_client()  # the parent's pooled connections are not this process's to use
        written = _backfill_sites(specs, plan, lambda day, points: events.put(("day", day, points)))
        events.put(("done", written, None))
    except KeyboardInterrupt:
        events.put(("error", "interrupted", None))
    except Exception as exc:  # reported to the parent, which raises it
        events.put(("error", f"{type(exc).__name__}: {exc}", None))


class _DayProgress:
    """Reports day N once every worker has finished it, in order."""

    def __init__(self, *, plan: _BackfillPlan, groups: int, report: Report | None, began: float):
        self.plan, self.groups, self.report, self.began = plan, groups, report, began
        self.points = [0] * plan.days
        self.finished = [0] * plan.days
        self.next_day = 0

    def record(self, day: int, points: int) -> None:
        self.points[day] += points
        self.finished[day] += 1
        while self.next_day < self.plan.days and self.finished[self.next_day] == self.groups:
            day = self.next_day
            self.next_day += 1
            if self.report is not None:
                label = datetime.fromtimestamp(
                    min(self.plan.start_s + (day + 1) * DAY_S, self.plan.end_s), tz=UTC
                )
                self.report(
                    f"day {day + 1}/{self.plan.days} (to {label:%Y-%m-%d %H:%M} UTC): "
                    f"{self.points[day]:,} points, {time.perf_counter() - self.began:.1f} s"
                )


def simulation_backfill(
    *,
    specs: Sequence[SiteSpec],
    start: datetime,
    end: datetime,
    step: float = 10.0,
    seed: int = 1,
    workers: int = 1,
    report: Report | None = None,
) -> BackfillResult:
    """Write the history of (start, end] at ``step`` seconds, as fast as InfluxDB takes it.

    The plant starts from its design operating point with fresh registers; faults recorded
    in the window are replayed where they happened. With ``workers`` above 1 the sites are
    shared among that many forked processes (each site's run is the same either way, as
    each has its own seeded model), so a machine's cores all work. Progress is reported
    per day.
    """
    if end <= start:
        raise SimulatorError("a backfill needs its start before its end")
    if not 1.0 <= step <= 3600.0:
        raise SimulatorError(f"the step must be between 1 and 3600 seconds, not {step:g}")
    plan = _BackfillPlan(
        start_s=start.timestamp(),
        end_s=end.timestamp(),
        step=step,
        seed=seed,
        schedule=fault_schedule(site_slugs=[s.slug for s in specs], start=start, end=end),
    )
    groups = _share_out(specs, max(1, min(workers, len(specs))))
    began = time.perf_counter()
    progress = _DayProgress(plan=plan, groups=len(groups), report=report, began=began)
    if len(groups) == 1:
        written = _backfill_sites(groups[0], plan, progress.record)
    else:
        written = _backfill_in_processes(groups, plan, progress)
    return BackfillResult(
        points=written, seconds=time.perf_counter() - began, start=start, end=end, workers=len(groups)
    )


def _share_out(specs: Sequence[SiteSpec], workers: int) -> list[list[SiteSpec]]:
    """Sites into ``workers`` groups of about equal work (points per tick follow asset count)."""
    groups: list[list[SiteSpec]] = [[] for _ in range(workers)]
    load = [0] * workers
    for spec in sorted(specs, key=_points_per_tick, reverse=True):
        i = load.index(min(load))
        groups[i].append(spec)
        load[i] += _points_per_tick(spec)
    return [g for g in groups if g]


def _points_per_tick(spec: SiteSpec) -> int:
    return 8 + sum(1 + len(r.nodes) + len(r.pdu_tags) for r in spec.racks) + len(spec.sensors)


def _backfill_in_processes(groups: list[list[SiteSpec]], plan: _BackfillPlan, progress: _DayProgress) -> int:
    context = multiprocessing.get_context("fork")  # the workers inherit settings and specs as they are
    events = context.Queue()
    processes = [
        context.Process(target=_backfill_worker, args=(group, plan, events), name=f"simulator-backfill-{i}")
        for i, group in enumerate(groups)
    ]
    for process in processes:
        process.start()
    written, running = 0, len(processes)
    try:
        while running:
            try:
                kind, first, second = events.get(timeout=1.0)
            except queue.Empty:
                if not any(p.is_alive() for p in processes):
                    raise SimulatorError("a backfill worker died without a word; see the log above") from None
                continue
            if kind == "day":
                progress.record(first, second)
            elif kind == "done":
                written += first
                running -= 1
            else:
                raise SimulatorError(f"backfill worker failed: {first}")
    finally:
        for process in processes:
            if process.is_alive() and running:
                process.terminate()
            process.join()
    return written


def backfill_window(*, days: float, step: float, now: datetime | None = None) -> tuple[datetime, datetime]:
    """``days`` ending now, with the end on a whole step so live ticks line up with it."""
    now_s = (now or timezone.now()).timestamp()
    end_s = math.floor(now_s / step) * step
    end = datetime.fromtimestamp(end_s, tz=UTC)
    return end - timedelta(days=days), end
