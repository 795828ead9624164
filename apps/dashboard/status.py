"""Turn a site's latest readings into the answers a person needs at a glance.

The four questions of DESIGN.md, each a level (ok, warn, bad, unknown), a number and a
verdict in plain words; the site's health; the drill-down panels; and the latest chart
points. Pure functions of the readings, the site's configuration and the time: the pump
and the page both call them, so the page and the live stream always agree.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from apps.assets.choices import AssetKind
from apps.telemetry.pump import SiteReadings, stale_after_ms

from . import panels
from .choices import Health, Level
from .panels import LEVEL_ICONS, AssetInfo, Row, fmt, seen

WATER_CP = 4.18  # kJ/(kg K)
DELTA_T_BAND = (2.0, 15.0)  # K: a loop outside this is not carrying heat as designed
# Never colour alone: every state also has an icon and a word.
HEALTH_ICONS = {Health.OK: "✓", Health.DEGRADED: "!", Health.ALARM: "✕", Health.STALE: "◌"}


@dataclass(frozen=True)
class SiteConfig:
    """What the status needs from the site's configuration (loaded once, reused per tick)."""

    pk: int
    slug: str
    name: str
    kind_label: str
    consumer_description: str
    supply_min_c: float
    supply_max_c: float
    rated_it_kw: float
    pump_min_flow: float | None
    max_supply_c: float | None
    max_inlet_c: float | None
    tank_volume_l: float
    dump_kw: float
    racks: tuple[str, ...] = ()  # slugs, in the order the panels list them
    pdus: tuple[str, ...] = ()
    nodes: tuple[str, ...] = ()
    assets: dict[str, AssetInfo] = field(default_factory=dict)  # by slug

    @classmethod
    def from_site(cls, site) -> SiteConfig:
        assets = [a for a in site.assets.all() if a.is_active]

        def of(kind):
            return [a for a in assets if a.kind == kind]

        def limit(kinds, attr):
            values = [getattr(a, attr) for a in assets if a.kind in kinds and getattr(a, attr) is not None]
            return min(values) if values else None

        return cls(
            pk=site.pk,
            slug=site.slug,
            name=site.name,
            kind_label=site.get_kind_display(),
            consumer_description=site.consumer_description,
            supply_min_c=site.supply_temp_min_c,
            supply_max_c=site.supply_temp_max_c,
            rated_it_kw=sum(a.rated_power_kw or 0 for a in of(AssetKind.RACK)),
            pump_min_flow=limit({AssetKind.PUMP}, "min_flow_m3h"),
            max_supply_c=limit({AssetKind.HEAT_EXCHANGER, AssetKind.BUFFER_TANK}, "max_supply_temp_c"),
            max_inlet_c=limit({AssetKind.RACK, AssetKind.NODE}, "max_inlet_temp_c"),
            tank_volume_l=sum(a.volume_l or 0 for a in of(AssetKind.BUFFER_TANK)),
            dump_kw=sum(a.rated_power_kw or 0 for a in of(AssetKind.DRY_COOLER)),
            racks=tuple(a.slug for a in of(AssetKind.RACK)),
            pdus=tuple(a.slug for a in of(AssetKind.PDU)),
            nodes=tuple(a.slug for a in sorted(of(AssetKind.NODE), key=lambda a: a.slug)),
            assets={
                a.slug: AssetInfo(
                    pk=a.pk,
                    slug=a.slug,
                    name=a.name,
                    kind_label=a.get_kind_display(),
                    rated_power_kw=a.rated_power_kw,
                    max_supply_temp_c=a.max_supply_temp_c,
                    max_inlet_temp_c=a.max_inlet_temp_c,
                    min_flow_m3h=a.min_flow_m3h,
                )
                for a in assets
            },
        )


@dataclass
class Question:
    key: str
    title: str
    level: str
    number: str
    verdict: str
    time_ms: int | None = None
    since_ms: int | None = None
    stale_ms: int | None = None  # how old its reading may get before it is shown stale

    @property
    def level_label(self) -> str:
        return Level(self.level).label

    @property
    def icon(self) -> str:
        return LEVEL_ICONS[self.level]


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


def _newest(*readings) -> int | None:
    times = [r.time_ms for r in readings if r is not None]
    return max(times) if times else None


# the fields each question's answer rests on
QUESTION_FIELDS = {
    "power": ("it_power_kw",),
    "heat": ("power_kw",),
    "loop": ("supply_temp_c", "return_temp_c", "flow_m3h", "delta_t_k"),
    "consumer": ("delivered_kw", "demand_kw", "online"),
}


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
        _power_question(cfg, it_kw, facility, fresh(facility, "power")),
        _heat_question(it_kw, heat_kw, meter, fresh(meter, "heat")),
        _loop_question(cfg, loop, pump, fresh(loop, "loop")),
        _consumer_question(
            cfg, consumer, tank, dump, fresh(consumer, "consumer"), potential_kw=_heat_potential(it_kw, r)
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
    unacknowledged = [a for a in alarms if a.state == "firing" and a.severity in ("critical", "major")]
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


def _power_question(cfg, it_kw, reading, fresh) -> Question:
    q = Question(
        "power", "IT power", Level.UNKNOWN, fmt(it_kw, "kW"), "No IT power reading yet.", _newest(reading)
    )
    if it_kw is None:
        return q
    if not fresh:
        q.verdict = "The IT power reading is old: the number may no longer be true."
        return q
    if cfg.rated_it_kw:
        share = it_kw / cfg.rated_it_kw
        q.verdict = f"Drawing {it_kw:.1f} kW of the racks' {cfg.rated_it_kw:.0f} kW rating ({share:.0%})."
        q.level = Level.WARN if share > 0.95 else Level.OK
    else:
        q.verdict, q.level = f"Drawing {it_kw:.1f} kW.", Level.OK
    return q


def _heat_question(it_kw, heat_kw, reading, fresh) -> Question:
    q = Question(
        "heat",
        "Heat transferred",
        Level.UNKNOWN,
        fmt(heat_kw, "kW"),
        "No heat meter reading yet.",
        _newest(reading),
    )
    if heat_kw is None:
        return q
    if not fresh:
        q.verdict = "The heat meter reading is old: the number may no longer be true."
        return q
    if not it_kw or it_kw < 1:
        q.verdict, q.level = f"Delivering {heat_kw:.1f} kW; the IT load is idle.", Level.OK
        return q
    ratio = heat_kw / it_kw
    q.verdict = f"Delivering {heat_kw:.1f} kW to the building: {ratio:.0%} of the IT load recovered."
    if ratio > 1.02:
        q.verdict = (
            f"Delivering {heat_kw:.1f} kW to the building, {ratio:.0%} of the IT load: the heat pump adds "
            "its own electrical input to the servers' heat as it raises the temperature."
        )
    q.level = Level.OK if ratio >= 0.6 else Level.WARN if ratio >= 0.2 else Level.BAD
    if q.level == Level.BAD:
        q.verdict = (
            f"Only {heat_kw:.1f} kW of {it_kw:.1f} kW reaches the building: the heat is not getting out."
        )
    return q


def _loop_question(cfg, loop, pump, fresh) -> Question:
    q = Question("loop", "Loop stable", Level.UNKNOWN, "—", "No loop reading yet.", _newest(loop))
    if loop is None:
        return q
    f = loop.fields
    supply, ret, flow = f.get("supply_temp_c"), f.get("return_temp_c"), f.get("flow_m3h")
    dt = f.get("delta_t_k", supply - ret if supply is not None and ret is not None else None)
    q.number = f"ΔT {fmt(dt, 'K')}"
    if not fresh:
        q.verdict = "The loop reading is old: the numbers may no longer be true."
        return q
    problems = []
    pump_running = pump.fields.get("running", True) if pump else True
    if flow is not None and (flow <= 0.01 or (cfg.pump_min_flow and flow < cfg.pump_min_flow)):
        why = "the pump has stopped" if not pump_running else "below the pump's minimum"
        problems.append((Level.BAD, f"flow {flow:.1f} m³/h: {why}"))
    if supply is not None and cfg.max_supply_c and supply > cfg.max_supply_c:
        problems.append(
            (Level.BAD, f"supply {supply:.1f} °C is over the plant's {cfg.max_supply_c:.0f} °C limit")
        )
    if dt is not None and not DELTA_T_BAND[0] <= dt <= DELTA_T_BAND[1] and flow and flow > 0.01:
        problems.append(
            (Level.WARN, f"ΔT {dt:.1f} K is outside {DELTA_T_BAND[0]:.0f}–{DELTA_T_BAND[1]:.0f} K")
        )
    if problems:
        q.level = Level.BAD if any(level == Level.BAD for level, _ in problems) else Level.WARN
        q.title = "Loop unstable"
        q.verdict = "Loop unstable: " + "; ".join(text for _, text in problems) + "."
    else:
        q.level = Level.OK
        q.verdict = (
            f"Loop stable: ΔT {fmt(dt, 'K')}, flow {fmt(flow, 'm³/h')}, supply {fmt(supply, '°C')}."
        )
    return q


def _heat_potential(it_kw, r) -> float | None:
    """The heat the plant has to give now: the servers' (about their electrical power) plus
    what a heat pump adds from its own electrical input."""
    if it_kw is None:
        return None
    return it_kw + (r.total("heat_pump", "power_kw") or 0.0)


def _consumer_question(cfg, consumer, tank, dump, fresh, potential_kw=None) -> Question:
    """Is the consumer getting what it can expect? Not its whole demand: the servers give
    only the heat they make (plus a heat pump's input), the building's own boiler covers
    the rest by design. So the delivered heat is judged against the lesser of the demand
    and the heat the plant has to give now (``potential_kw``)."""
    q = Question(
        "consumer",
        "Consumer supplied",
        Level.UNKNOWN,
        "—",
        "No reading from the heat consumer yet.",
        _newest(consumer),
    )
    if consumer is None:
        return q
    f = consumer.fields
    demand, delivered, online = f.get("demand_kw"), f.get("delivered_kw"), f.get("online", True)
    q.number = (
        f"{fmt(delivered, 'kW')} of {fmt(demand, 'kW')}" if demand is not None else fmt(delivered, "kW")
    )
    if not fresh:
        q.verdict = "The consumer reading is old: the numbers may no longer be true."
        return q
    soc = tank.fields.get("soc_pct") if tank else None
    dumping = bool(dump and dump.fields.get("active"))
    tail = f" Tank {soc:.0f} % full." if soc is not None else ""
    if dumping:
        tail += " The dry cooler is dumping surplus heat."
    if online is False:
        q.level, q.number = Level.BAD, "offline"
        q.verdict = (
            "The heat consumer is offline: heat goes to the tank and the dump path, the building uses its boiler."
            + tail
        )
    elif not demand or demand < 0.5:
        q.level, q.verdict = Level.OK, "The consumer is not asking for heat right now." + tail
    else:
        share = (delivered or 0) / demand
        expected = min(demand, potential_kw) if potential_kw else demand
        got = (delivered or 0) / expected if expected > 0 else 1.0
        q.level = Level.OK if got >= 0.85 else Level.WARN if got >= 0.5 else Level.BAD
        q.verdict = f"Receiving {delivered or 0:.1f} kW of the {demand:.1f} kW it asks for ({share:.0%})"
        if expected < demand and q.level == Level.OK and share < 0.9:
            q.verdict += ": all the heat the servers give now; the building's own boiler covers the rest."
        elif expected < demand and q.level != Level.OK:
            q.verdict += f", though the servers could give {expected:.1f} kW."
        else:
            q.verdict += "."
        q.verdict += tail
    return q


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
