"""The live simulator: every site's model stepped against the clock, its points written to
InfluxDB as the site's own agents would send them.

Every point goes through ``apps.telemetry.influx.client.get_client().write()``; nothing
here builds line protocol or InfluxQL.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime

from django.db import DatabaseError, close_old_connections, connection

from apps.telemetry import schema
from apps.telemetry.influx.client import get_client
from apps.telemetry.influx.errors import InfluxError
from apps.telemetry.influx.points import Point

from .exceptions import SimulatorError
from .physics import SiteModel
from .selectors import faults_active
from .specs import SiteSpec

logger = logging.getLogger("apps.simulator")

Report = Callable[[str], None]

RESTORE_LOOKBACK = "400d"  # how far back to look for registers to continue (the default retention)
MAX_TICK_GAP_S = 60.0  # a stalled process does not make the plant jump more than this
INFLUX_WARN_EVERY_S = 60.0


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
    """One line per site: power, heat, loop, tank and consumer at a glance, plus active faults."""
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

