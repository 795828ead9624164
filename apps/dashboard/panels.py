"""The drill-down panels of a site page: one row per series (an asset, a loop, the
consumer), each with its numbers and a mark that comes from that row's own state: its
asset's rated limits, the open alarms on it, and whether its reading is current.

    mark = the worst of: its open alarms (critical or major: ✕, others: !), its limits
           (for example a rack inlet above its rated maximum: ✕), and "?" when its
           reading is old or missing
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from apps.alarms.choices import SERIOUS
from apps.telemetry.influx.results import Reading
from apps.telemetry.live import SiteReadings

from .choices import Level
from .thresholds import CONSUMER_PANEL_WARN, NO_FLOW_M3H, TANK_FULL_PCT, above, flow_lost

LEVEL_ICONS = {Level.OK: "✓", Level.WARN: "!", Level.BAD: "✕", Level.UNKNOWN: "?"}
_RANK = {Level.OK: 0, Level.UNKNOWN: 1, Level.WARN: 2, Level.BAD: 3}


@dataclass(frozen=True)
class AssetInfo:
    """What a row needs of an asset's configuration."""

    pk: int
    slug: str
    name: str
    kind_label: str
    rated_power_kw: float | None = None
    max_supply_temp_c: float | None = None
    max_inlet_temp_c: float | None = None
    min_flow_m3h: float | None = None


@dataclass
class Row:
    """One line of a drill-down panel."""

    name: str
    values: list[tuple[str, str]]  # (label, formatted value)
    time_ms: int | None
    level: str = Level.OK
    stale_ms: int | None = None  # None: the page's default limit
    why: str = ""  # what set the mark, in words (shown as the mark's title)

    @property
    def icon(self) -> str:
        return LEVEL_ICONS[self.level]


def fmt(value, unit: str, digits: int = 1) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return f"{value:,.{digits}f} {unit}".strip()


def seen(reading: Reading | None, names) -> int | None:
    """When the oldest of ``names`` that ``reading`` holds was written (each field keeps its
    own time: an agent may write a series' fields in separate points)."""
    if reading is None:
        return None
    times = [reading.time_of(n) for n in names if n in reading.fields]
    return min(times) if times else reading.time_ms


# What each row shows: (label, field, unit), by measurement.
SHOWN = {
    "facility": [("IT", "it_power_kw", "kW"), ("total", "total_power_kw", "kW")],
    "rack": [("power", "power_kw", "kW"), ("inlet", "inlet_temp_c", "°C")],
    "pdu": [("power", "power_kw", "kW"), ("register", "energy_kwh", "kWh")],
    "loop": [("supply", "supply_temp_c", "°C"), ("return", "return_temp_c", "°C"), ("flow", "flow_m3h", "m³/h")],
    "pump": [("speed", "speed_pct", "%"), ("power", "power_kw", "kW")],
    "heat_exchanger": [("heat", "heat_kw", "kW"), ("approach", "approach_k", "K")],
    "heat_pump": [("in", "power_kw", "kW"), ("out", "heat_kw", "kW"), ("COP", "cop", "")],
    "tank": [("top", "top_temp_c", "°C"), ("bottom", "bottom_temp_c", "°C"), ("charge", "soc_pct", "%")],
    "heat_meter": [("heat", "power_kw", "kW"), ("flow", "flow_m3h", "m³/h"), ("register", "energy_kwh", "kWh")],
    "dry_cooler": [("dumping", "heat_kw", "kW"), ("open", "active", "")],
    "consumer": [("delivered", "delivered_kw", "kW"), ("demand", "demand_kw", "kW"), ("temperature", "temp_c", "°C")],
    "node": [("power", "power_kw", "kW"), ("load", "utilisation_pct", "%"), ("inlet", "inlet_temp_c", "°C")],
}


@dataclass
class PanelContext:
    """What judging a row needs besides the row's own reading."""

    readings: SiteReadings
    assets: dict[str, AssetInfo]
    alarms: list
    is_fresh: Callable[[Reading, list[str]], bool]
    limit_ms: Callable[[Reading | None], int]
    pump_min_flow: float | None = None
    max_supply_c: float | None = None
    max_inlet_c: float | None = None


def _limits(measurement: str, f: dict, asset: AssetInfo | None, ctx: PanelContext) -> tuple[str, str]:
    """The mark a row's own numbers give it against its limits, and why."""
    if measurement in ("rack", "node"):
        inlet, max_inlet = f.get("inlet_temp_c"), (asset and asset.max_inlet_temp_c) or ctx.max_inlet_c
        if above(inlet, max_inlet):
            return Level.BAD, f"inlet {inlet:.1f} °C is above its rated {max_inlet:.0f} °C"
        if f.get("throttled"):
            return Level.WARN, "throttled"
    if measurement in ("rack", "pdu", "node", "heat_exchanger"):
        power, rated = f.get("power_kw", f.get("heat_kw")), asset and asset.rated_power_kw
        if above(power, rated):
            return Level.WARN, f"{power:.1f} kW is above its rated {rated:.0f} kW"
    if measurement == "pump":
        if f.get("running") is False or f.get("speed_pct") == 0:
            flow = ctx.readings.value("loop", "flow_m3h", loop="primary")
            if flow is not None and flow <= max(NO_FLOW_M3H, ctx.pump_min_flow or 0):
                return Level.BAD, "stopped, and the primary loop has no flow"
            return Level.WARN, "stopped"
    if measurement == "loop":
        flow, min_flow = f.get("flow_m3h"), (asset and asset.min_flow_m3h) or ctx.pump_min_flow
        if flow_lost(flow, min_flow):
            return Level.BAD, f"flow {flow:.1f} m³/h is below the pump's minimum"
        supply = f.get("supply_temp_c")
        if above(supply, ctx.max_supply_c):
            return Level.BAD, f"supply {supply:.1f} °C is above the rated {ctx.max_supply_c:.0f} °C"
    if measurement == "tank":
        soc = f.get("soc_pct")
        if soc is not None and soc >= TANK_FULL_PCT:
            return Level.WARN, "full: it can take no more heat"
    if measurement == "consumer":
        if f.get("online") is False:
            return Level.BAD, "offline"
        delivered, demand = f.get("delivered_kw"), f.get("demand_kw")
        if delivered is not None and demand and delivered < CONSUMER_PANEL_WARN * demand:
            return Level.WARN, f"receiving {delivered / demand:.0%} of what it asks for"
    return Level.OK, ""


def _alarm_on(alarm, measurement: str, reading: Reading, asset: AssetInfo | None) -> bool:
    if asset is not None and alarm.asset_id == asset.pk:
        return True
    rule = alarm.rule
    if alarm.asset_id is None and rule.measurement == measurement:
        return all(reading.tags.get(k) == v for k, v in (rule.tags or {}).items())
    return False


def row(name: str, measurement: str, reading: Reading | None, ctx: PanelContext, asset=None) -> Row:
    specs = SHOWN[measurement]
    if reading is None:
        return Row(name, [(label, "—") for label, _, _ in specs], None, Level.UNKNOWN, why="no reading")
    f = reading.fields
    out = Row(
        name,
        [(label, fmt(f.get(fld), unit)) for label, fld, unit in specs],
        seen(reading, [fld for _, fld, _ in specs]),
        stale_ms=reading.stale_after_ms,
    )
    marks = [_limits(measurement, f, asset, ctx)]
    if not ctx.is_fresh(reading, [fld for _, fld, _ in specs]):
        marks.append((Level.UNKNOWN, "the reading is old"))
    for alarm in ctx.alarms:
        if _alarm_on(alarm, measurement, reading, asset):
            level = Level.BAD if alarm.severity in SERIOUS else Level.WARN
            marks.append((level, f"alarm: {alarm.title}"))
    out.level, out.why = max(marks, key=lambda m: _RANK[m[0]])
    if out.why and out.level in (Level.WARN, Level.BAD) and not out.why.startswith("alarm"):
        out.values.append(("", out.why))
    return out


def _asset_rows(measurement: str, ctx: PanelContext) -> list[Row]:
    rows = []
    for reading in sorted(ctx.readings.find(measurement), key=lambda r: r.tags.get("asset", "")):
        slug = reading.tags.get("asset", "")
        asset = ctx.assets.get(slug)
        name = asset.name if asset else f"{measurement.replace('_', ' ').capitalize()} {slug}"
        rows.append(row(name, measurement, reading, ctx, asset))
    return rows


def _configured_rows(measurement: str, slugs, ctx: PanelContext) -> list[Row]:
    """A row for every configured asset of a kind, read or not (a rack that sends
    nothing is a row with a '?', not a missing row)."""
    return [
        row(ctx.assets[slug].name, measurement, ctx.readings.one(measurement, asset=slug), ctx, ctx.assets[slug])
        for slug in slugs
    ]


def electrical(ctx: PanelContext, racks, pdus) -> list[Row]:
    return [
        row("Site", "facility", ctx.readings.one("facility"), ctx),
        *_configured_rows("rack", racks, ctx),
        *_configured_rows("pdu", pdus, ctx),
    ]


def thermal(ctx: PanelContext) -> list[Row]:
    rows = [row("Primary loop", "loop", ctx.readings.one("loop", loop="primary"), ctx)]
    secondary = ctx.readings.one("loop", loop="secondary")
    if secondary is not None:
        rows.append(row("Secondary loop", "loop", secondary, ctx))
    for measurement in ("pump", "heat_exchanger", "heat_pump", "tank", "heat_meter", "dry_cooler"):
        rows.extend(_asset_rows(measurement, ctx))
    rows.append(row("Heat consumer", "consumer", ctx.readings.one("consumer"), ctx))
    return rows


def workload(ctx: PanelContext, nodes) -> list[Row]:
    return _configured_rows("node", nodes, ctx)
