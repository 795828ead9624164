"""Writes: inject and clear faults, run the live simulator, backfill history.

Every point goes to InfluxDB through ``apps.telemetry.influx.client.get_client().write()``, as a
site's own agents would send it; nothing here builds line protocol or InfluxQL.
"""

from __future__ import annotations

import gc
import logging
import math
import multiprocessing
import queue
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db import DatabaseError, close_old_connections, connection, transaction
from django.utils import timezone

from apps.sites.models import Site
from apps.telemetry import schema
from apps.telemetry.influx.client import get_client, reset_client
from apps.telemetry.influx.errors import InfluxError
from apps.telemetry.influx.points import Point

from .choices import FaultKind
from .exceptions import FaultAlreadyActive, FaultNotActive, SimulatorError
from .models import SimulatedFault
from .physics import SiteModel
from .selectors import FaultSchedule, fault_schedule, faults_active
from .specs import SiteSpec

logger = logging.getLogger("apps.simulator")

Report = Callable[[str], None]

RESTORE_LOOKBACK = "400d"  # how far back to look for registers to continue (the default retention)
BACKFILL_BATCH = 10_000  # lines per /write request
MAX_TICK_GAP_S = 60.0  # a stalled process does not make the plant jump more than this
INFLUX_WARN_EVERY_S = 60.0
DAY_S = 86400.0


# --- faults ---------------------------------------------------------------------------------


def fault_start(*, site: Site, kind: FaultKind | str, at: datetime | None = None) -> SimulatedFault:
    """Inject a fault at a site; the running simulator picks it up on its next tick."""
    kind = FaultKind(kind)
    with transaction.atomic():
        Site.objects.select_for_update().get(pk=site.pk)  # one injector at a time per site
        active = SimulatedFault.objects.filter(site=site, kind=kind, cleared_at__isnull=True).first()
        if active is not None:
            raise FaultAlreadyActive(
                f"{kind.value} is already active at {site.slug} (since {_when(active.started_at)})"
            )
        return SimulatedFault.objects.create(site=site, kind=kind, started_at=at or timezone.now())


def fault_clear(*, site: Site, kind: FaultKind | str, at: datetime | None = None) -> SimulatedFault:
    """End an active fault; the plant then recovers with its own inertia."""
    kind = FaultKind(kind)
    with transaction.atomic():
        fault = (
            SimulatedFault.objects.select_for_update()
            .filter(site=site, kind=kind, cleared_at__isnull=True)
            .first()
        )
        if fault is None:
            raise FaultNotActive(f"{kind.value} is not active at {site.slug}")
        cleared_at = at or timezone.now()
        if cleared_at < fault.started_at:
            raise SimulatorError(f"a fault cannot clear ({_when(cleared_at)}) before it started")
        fault.cleared_at = cleared_at
        fault.save(update_fields=["cleared_at"])
        return fault


def _when(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


# --- live -----------------------------------------------------------------------------------


class SimulationRunner:
    """One model per site, stepped tick by tick with the faults active at that moment.

    The live loop calls ``tick(at=...)`` with the clock; tests call it with moments of
    their own. Faults are read from the database on every tick, so a separate
    ``manage.py simulate --fault`` reaches a running loop.
    """

    def __init__(
        self, *, specs: Sequence[SiteSpec], seed: int = 1, speed: float = 1.0, interval: float = 5.0
    ):
        self.models = {spec.slug: SiteModel(spec, seed=seed) for spec in specs}
        self.speed = speed
        self.interval = interval
        self.restored = False
        self.last_at: datetime | None = None
        self.faults: dict[str, frozenset[str]] = {}
        self._influx_failing_since: float | None = None
        self._influx_warned_at = 0.0
        self._invalid_warned: set[tuple[str, str]] = set()

    def restore(self) -> None:
        """Continue the heat meters' and PDUs' registers and the tanks' charge from
        InfluxDB, so a restart (or going live after a backfill) does not reset them."""
        readings = get_client().latest(measurements=["heat_meter", "pdu", "tank"], lookback=RESTORE_LOOKBACK)
        for slug, model in self.models.items():
            registers: dict[tuple[str, str], float] = {}
            soc = None
            for reading in readings:
                if reading.tags.get("site") != slug:
                    continue
                if reading.measurement == "tank" and "soc_pct" in reading.fields:
                    soc = float(reading.fields["soc_pct"])
                elif "energy_kwh" in reading.fields:
                    registers[(reading.measurement, reading.tags.get("asset", ""))] = float(
                        reading.fields["energy_kwh"]
                    )
            model.restore(registers=registers, soc_pct=soc)
        self.restored = True

    def tick(self, *, at: datetime) -> int:
        """Advance every site to ``at`` and write its points; return how many were written.

        InfluxDB being unreachable is not an error here: the warning says so once a minute
        and the next tick tries again.
        """
        if not self.restored:
            try:
                self.restore()
            except InfluxError as exc:
                self._influx_failed(exc)
                return 0
        try:
            self._pick_up_faults(faults_active(site_slugs=list(self.models)))
        except DatabaseError as exc:  # keep simulating with the faults last known
            logger.warning("cannot read the active faults, keeping the last known: %s", exc)
        dt = self.interval if self.last_at is None else (at - self.last_at).total_seconds()
        dt = min(max(dt, 0.001), MAX_TICK_GAP_S)
        self.last_at = at
        points: list[Point] = []
        for slug, model in self.models.items():
            points.extend(self._valid(model.step(at, dt, faults=self.faults.get(slug, ()), speed=self.speed)))
        try:
            written = get_client().write(points)
        except InfluxError as exc:
            self._influx_failed(exc)
            return 0
        if self._influx_failing_since is not None:
            logger.warning("InfluxDB is reachable again; writing resumed")
            self._influx_failing_since = None
        return written

    def _pick_up_faults(self, active: dict[str, frozenset[str]]) -> None:
        for slug in self.models:
            before, now = self.faults.get(slug, frozenset()), active.get(slug, frozenset())
            for kind in sorted(now - before):
                logger.info("%s: fault %s is now active", slug, kind)
            for kind in sorted(before - now):
                logger.info("%s: fault %s cleared", slug, kind)
        self.faults = active

    def _valid(self, points: Iterable[Point]) -> Iterable[Point]:
        """Points that fit the schema; one that does not (a misbound asset) is dropped and
        named once, rather than poisoning the batch it would be written in."""
        for point in points:
            try:
                schema.validate(point.measurement, dict(point.tags), dict(point.fields))
            except schema.SchemaError as exc:
                key = (point.measurement, str(sorted(point.tags.items())))
                if key not in self._invalid_warned:
                    self._invalid_warned.add(key)
                    logger.error("dropping points that do not fit the schema: %s", exc)
                continue
            yield point

    def _influx_failed(self, exc: InfluxError) -> None:
        now = time.monotonic()
        if self._influx_failing_since is None:
            self._influx_failing_since = now
        if now - self._influx_warned_at >= INFLUX_WARN_EVERY_S:
            self._influx_warned_at = now
            logger.warning("cannot write to InfluxDB, will keep trying every tick: %s", exc)


def live_settings_check(*, interval: float, speed: float) -> None:
    """Refuse settings the live loop cannot honour, before anything starts."""
    if not 1.0 <= interval <= 10.0:
        raise SimulatorError(f"the interval must be between 1 and 10 seconds, not {interval:g}")
    if not 0.0 < speed <= 3600.0:
        raise SimulatorError(f"the speed must be above 0 and at most 3600, not {speed:g}")


def simulation_run_live(
    *,
    specs: Sequence[SiteSpec],
    interval: float = 5.0,
    speed: float = 1.0,
    seed: int = 1,
    ticks: int | None = None,
    report: Report = print,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """Run the simulator against the clock until interrupted (or for ``ticks`` ticks).

    Ticks fall on whole multiples of ``interval`` so every site's points share times;
    a status line per site is reported once a minute. Returns the ticks run.
    """
    live_settings_check(interval=interval, speed=speed)
    runner = SimulationRunner(specs=specs, seed=seed, speed=speed, interval=interval)
    done = 0
    next_at = math.ceil(clock() / interval) * interval
    last_status = -math.inf
    while ticks is None or done < ticks:
        wait = next_at - clock()
        if wait > 0:
            sleep(wait)
        if not connection.in_atomic_block:  # never under someone's open transaction
            close_old_connections()  # a loop that runs for weeks must survive a database restart
        at = datetime.fromtimestamp(next_at, tz=UTC)
        runner.tick(at=at)
        done += 1
        if next_at - last_status >= 60.0:
            last_status = next_at
            for line in status_lines(runner=runner, at=at):
                report(line)
        next_at += interval
        if clock() - next_at > interval:  # fell behind (suspended, slow database): skip ahead
            next_at = math.ceil(clock() / interval) * interval
    return done


def status_lines(*, runner: SimulationRunner, at: datetime) -> list[str]:
    """One line per site: the four questions of DESIGN.md at a glance, plus active faults."""
    if not runner.restored:
        return [f"{at:%H:%M:%S} waiting for InfluxDB (to continue the registers it holds) before starting"]
    lines = []
    for slug, model in runner.models.items():
        out = model.out
        it = sum(rack.power for rack in model.racks)
        faults = ", ".join(sorted(runner.faults.get(slug, ()))) or "none"
        lines.append(
            f"{at:%H:%M:%S} {slug}: IT {it:.1f} kW, heat {out.q_charge:.1f} kW, "
            f"loop {model.t_supply:.1f}/{model.t_rack:.1f} °C at {model.flow:.2f} m³/h, "
            f"tank {model.soc_pct:.0f} %, consumer {out.delivered:.1f} kW, dump {out.q_dump:.1f} kW; "
            f"faults: {faults}"
        )
    return lines


# --- backfill -------------------------------------------------------------------------------


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
