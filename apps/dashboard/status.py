"""Turn a site's latest readings into the answers a person needs at a glance.

The four questions (``questions``), the site's health, the drill-down panels (``panels``)
and the latest chart points. Pure functions of the readings, the site's configuration
(``config``) and the time: the pump and the page both call them, so the page and the
live stream always agree.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from apps.alarms.choices import SERIOUS, AlarmState
from apps.telemetry.live import SiteReadings
from apps.telemetry.pump import stale_after_ms

from . import panels
from .choices import Health, Level
from .config import SiteConfig
from .panels import Row, fmt, seen
from .questions import (
    QUESTION_FIELDS,
    Question,
    consumer_question,
    heat_potential,
    heat_question,
    loop_question,
    power_question,
)

# Never colour alone: every state also has an icon and a word.
HEALTH_ICONS = {Health.OK: "✓", Health.DEGRADED: "!", Health.ALARM: "✕", Health.STALE: "◌"}


@dataclass
class SiteStatus:
    site: SiteConfig
    health: str
    health_reason: str
    questions: list[Question]
    it_kw: float | None
    heat_kw: float | None
    delta_t: float | None
    soc: float | None
    consumer: str  # short: "delivered / demand kW", or "offline"
    newest_ms: int | None
    stale: bool
    stale_ms: int  # how old the newest reading may get before the site is shown stale
    electrical: list[Row] = field(default_factory=list)
    thermal: list[Row] = field(default_factory=list)
    workload: list[Row] = field(default_factory=list)
    points: dict[str, list] = field(default_factory=dict)  # chart series -> [time_ms, value]
    alarms: list = field(default_factory=list)  # open alarms, worst first
    maintenance: list = field(default_factory=list)  # maintenance windows in force now (banner_text)

    @property
    def open_alarms(self) -> int:
        return len(self.alarms)

    @property
    def health_label(self) -> str:
        return Health(self.health).label

    @property
    def health_icon(self) -> str:
        return HEALTH_ICONS[self.health]

    @property
    def rank(self) -> int:
        """Worst first on the portfolio."""
        return Health.ORDER.index(self.health)


def site_status(
    cfg: SiteConfig, r: SiteReadings, *, now: datetime, stale_after_s: float, alarms: list | None = None
) -> SiteStatus:
    now_ms = int(now.timestamp() * 1000)

    def limit(reading) -> int:
        return stale_after_ms(reading, default_s=stale_after_s)

    def fresh(reading, key: str) -> bool:
        return reading is not None and now_ms - seen(reading, QUESTION_FIELDS[key]) <= limit(reading)

    facility = r.one("facility")
    meter = r.one("heat_meter")
    loop = r.one("loop", loop="primary")
    tank = r.one("tank")
    consumer = r.one("consumer")
    pump = r.one("pump")
    dump = r.one("dry_cooler")

    it_kw = facility.fields.get("it_power_kw") if facility else r.total("rack", "power_kw")
    heat_kw = r.total("heat_meter", "power_kw")
    questions = [
        power_question(cfg, it_kw, facility, fresh(facility, "power")),
        heat_question(it_kw, heat_kw, meter, fresh(meter, "heat")),
        loop_question(cfg, loop, pump, fresh(loop, "loop")),
        consumer_question(
            cfg, consumer, tank, dump, fresh(consumer, "consumer"), potential_kw=heat_potential(it_kw, r)
        ),
    ]
    for q, reading in zip(questions, (facility, meter, loop, consumer), strict=True):
        if reading is not None:
            q.time_ms = seen(reading, QUESTION_FIELDS[q.key])
        q.stale_ms = limit(reading)

    newest_reading = max(r.series.values(), key=lambda x: x.time_ms, default=None)
    newest = newest_reading.time_ms if newest_reading else None
    stale = newest is None or now_ms - newest > limit(newest_reading)
    levels = {q.level for q in questions}
    alarms = alarms or []
    unacknowledged = [a for a in alarms if a.state == AlarmState.FIRING and a.severity in SERIOUS]
    if unacknowledged:
        others = len(alarms) - 1
        health = Health.ALARM
        held = " (in maintenance)" if getattr(unacknowledged[0], "in_maintenance", False) else ""
        reason = f"Alarm: {unacknowledged[0].title}{held}" + (f" (+{others} more)" if others else "")
    elif stale:
        health, reason = Health.STALE, "no data" if newest is None else "no new data"
    elif Level.BAD in levels:
        health, reason = Health.ALARM, next(q.verdict for q in questions if q.level == Level.BAD)
    elif levels & {Level.WARN, Level.UNKNOWN}:
        health = Health.DEGRADED
        reason = next(q.verdict for q in questions if q.level in (Level.WARN, Level.UNKNOWN))
    else:
        health, reason = Health.OK, "all four answers are fine"

    ctx = panels.PanelContext(
        readings=r,
        assets=cfg.assets,
        alarms=alarms,
        is_fresh=lambda reading, names: now_ms - seen(reading, names) <= limit(reading),
        limit_ms=limit,
        pump_min_flow=cfg.pump_min_flow,
        max_supply_c=cfg.max_supply_c,
        max_inlet_c=cfg.max_inlet_c,
    )
    delta_t = loop.fields.get("delta_t_k") if loop else None
    if delta_t is None and loop and "supply_temp_c" in loop.fields and "return_temp_c" in loop.fields:
        delta_t = loop.fields["supply_temp_c"] - loop.fields["return_temp_c"]

    return SiteStatus(
        site=cfg,
        health=health,
        health_reason=reason,
        questions=questions,
        it_kw=it_kw,
        heat_kw=heat_kw,
        delta_t=delta_t,
        soc=tank.fields.get("soc_pct") if tank else None,
        consumer=_consumer_short(consumer),
        newest_ms=newest,
        stale=stale,
        stale_ms=limit(newest_reading),
        electrical=panels.electrical(ctx, cfg.racks, cfg.pdus),
        thermal=panels.thermal(ctx),
        workload=panels.workload(ctx, cfg.nodes),
        points=_points(facility, meter, loop, tank, consumer),
        alarms=alarms,
    )


def _consumer_short(reading) -> str:
    if reading is None:
        return "—"
    f = reading.fields
    if f.get("online") is False:
        return "offline"
    delivered, demand = f.get("delivered_kw"), f.get("demand_kw")
    if demand is None:
        return fmt(delivered, "kW")
    return f"{fmt(delivered, '')} / {fmt(demand, 'kW')}"


def _points(facility, meter, loop, tank, consumer) -> dict[str, list]:
    points = {}
    for name, reading, fld in (
        ("it_kw", facility, "it_power_kw"),
        ("heat_kw", meter, "power_kw"),
        ("supply_c", loop, "supply_temp_c"),
        ("return_c", loop, "return_temp_c"),
        ("delta_t", loop, "delta_t_k"),
        ("soc", tank, "soc_pct"),
        ("demand_kw", consumer, "demand_kw"),
        ("delivered_kw", consumer, "delivered_kw"),
    ):
        if reading is not None and isinstance(reading.fields.get(fld), int | float):
            points[name] = [reading.time_of(fld), reading.fields[fld]]
    return points
