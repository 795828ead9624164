"""The four questions a site page answers first, each a level, a number and a verdict in
plain words: is the IT drawing power, is heat getting out, is the loop stable, is the
consumer supplied. Thresholds are in ``thresholds``, rated limits in ``apps.assets.limits``.
"""

from __future__ import annotations

from dataclasses import dataclass

from apps.assets.limits import DELTA_T_BAND_K

from .choices import Level
from .panels import LEVEL_ICONS, fmt
from .thresholds import (
    CONSUMER_BAD,
    CONSUMER_MOSTLY_SERVED,
    CONSUMER_NO_DEMAND_KW,
    CONSUMER_OK,
    HEAT_PUMP_GAIN,
    HEAT_RECOVERED_BAD,
    HEAT_RECOVERED_OK,
    IDLE_IT_KW,
    NO_FLOW_M3H,
    RATED_SHARE_WARN,
    above,
    flow_lost,
)

# the fields each question's answer rests on
QUESTION_FIELDS = {
    "power": ("it_power_kw",),
    "heat": ("power_kw",),
    "loop": ("supply_temp_c", "return_temp_c", "flow_m3h", "delta_t_k"),
    "consumer": ("delivered_kw", "demand_kw", "online"),
}


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


def _newest(*readings) -> int | None:
    times = [r.time_ms for r in readings if r is not None]
    return max(times) if times else None


def power_question(cfg, it_kw, reading, fresh) -> Question:
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
        q.level = Level.WARN if share > RATED_SHARE_WARN else Level.OK
    else:
        q.verdict, q.level = f"Drawing {it_kw:.1f} kW.", Level.OK
    return q


def heat_question(it_kw, heat_kw, reading, fresh) -> Question:
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
    if not it_kw or it_kw < IDLE_IT_KW:
        q.verdict, q.level = f"Delivering {heat_kw:.1f} kW; the IT load is idle.", Level.OK
        return q
    ratio = heat_kw / it_kw
    q.verdict = f"Delivering {heat_kw:.1f} kW to the building: {ratio:.0%} of the IT load recovered."
    if ratio > HEAT_PUMP_GAIN:
        q.verdict = (
            f"Delivering {heat_kw:.1f} kW to the building, {ratio:.0%} of the IT load: the heat pump adds "
            "its own electrical input to the servers' heat as it raises the temperature."
        )
    q.level = Level.OK if ratio >= HEAT_RECOVERED_OK else Level.WARN if ratio >= HEAT_RECOVERED_BAD else Level.BAD
    if q.level == Level.BAD:
        q.verdict = (
            f"Only {heat_kw:.1f} kW of {it_kw:.1f} kW reaches the building: the heat is not getting out."
        )
    return q


def loop_question(cfg, loop, pump, fresh) -> Question:
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
    low, high = DELTA_T_BAND_K
    pump_running = pump.fields.get("running", True) if pump else True
    if flow_lost(flow, cfg.pump_min_flow):
        why = "the pump has stopped" if not pump_running else "below the pump's minimum"
        problems.append((Level.BAD, f"flow {flow:.1f} m³/h: {why}"))
    if above(supply, cfg.max_supply_c):
        problems.append(
            (Level.BAD, f"supply {supply:.1f} °C is over the plant's {cfg.max_supply_c:.0f} °C limit")
        )
    if dt is not None and not low <= dt <= high and flow and flow > NO_FLOW_M3H:
        problems.append(
            (Level.WARN, f"ΔT {dt:.1f} K is outside {low:.0f}–{high:.0f} K")
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


def heat_potential(it_kw, r) -> float | None:
    """The heat the plant has to give now: the servers' (about their electrical power) plus
    what a heat pump adds from its own electrical input."""
    if it_kw is None:
        return None
    return it_kw + (r.total("heat_pump", "power_kw") or 0.0)


def consumer_question(cfg, consumer, tank, dump, fresh, potential_kw=None) -> Question:
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
    elif not demand or demand < CONSUMER_NO_DEMAND_KW:
        q.level, q.verdict = Level.OK, "The consumer is not asking for heat right now." + tail
    else:
        share = (delivered or 0) / demand
        expected = min(demand, potential_kw) if potential_kw else demand
        got = (delivered or 0) / expected if expected > 0 else 1.0
        q.level = Level.OK if got >= CONSUMER_OK else Level.WARN if got >= CONSUMER_BAD else Level.BAD
        q.verdict = f"Receiving {delivered or 0:.1f} kW of the {demand:.1f} kW it asks for ({share:.0%})"
        if expected < demand and q.level == Level.OK and share < CONSUMER_MOSTLY_SERVED:
            q.verdict += ": all the heat the servers give now; the building's own boiler covers the rest."
        elif expected < demand and q.level != Level.OK:
            q.verdict += f", though the servers could give {expected:.1f} kW."
        else:
            q.verdict += "."
        q.verdict += tail
    return q
