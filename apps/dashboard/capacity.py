"""Projected capacity for the next 24 hours: how many kW of compute the thermal side can
absorb, hour by hour, and on what assumptions.

    absorbable(h) = expected consumer demand(h) + dump path capacity + tank headroom / 24 h

Expected demand for an hour is the consumer's mean demand at that hour of the day over
the last 7 days (site local time), read from InfluxDB as hourly means (one query).
Tank headroom is (100 % - state of charge) of the tank's usable heat, spread evenly.

The projection starts from the plant as it is now, and a fault counts until it clears:
with the primary pump stopped or the loop's flow lost nothing carries heat away from the
racks, so nothing can be absorbed at all; with the consumer offline its demand counts as
nothing (the dump path and the tank still take heat).
"""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from apps.assets.water import tank_heat_kwh
from apps.telemetry.influx.client import InfluxClient
from apps.telemetry.live import SiteReadings

from .config import SiteConfig

USABLE_TANK_DELTA_K = 20.0  # a stratified tank stores heat over about 20 K between cold and full
HISTORY_DAYS = 7


@dataclass(frozen=True)
class PlantState:
    """What of the plant's state now limits what it can absorb; each fault in plain words."""

    loop_flowing: bool = True
    consumer_online: bool = True
    faults: tuple[str, ...] = ()

    @classmethod
    def from_readings(cls, cfg: SiteConfig, r: SiteReadings) -> PlantState:
        faults = []
        pump, loop, consumer = r.one("pump"), r.one("loop", loop="primary"), r.one("consumer")
        flow = loop.fields.get("flow_m3h") if loop else None
        stopped = pump is not None and (
            pump.fields.get("running") is False or pump.fields.get("speed_pct") == 0
        )
        lost = flow is not None and (flow <= 0.01 or bool(cfg.pump_min_flow and flow < cfg.pump_min_flow))
        if stopped or lost:
            why = (
                "the primary pump is stopped"
                if stopped
                else f"the primary loop's flow is lost ({flow:.1f} m³/h)"
            )
            faults.append(
                f"Nothing can be absorbed while {why}: no water carries heat away from the racks. "
                "Counted as 0 kW until it runs again."
            )
        offline = consumer is not None and consumer.fields.get("online") is False
        if offline:
            faults.append(
                "The heat consumer is offline: its demand counts as 0 kW until it is back; "
                "only the dump path and the tank take heat."
            )
        return cls(loop_flowing=not (stopped or lost), consumer_online=not offline, faults=tuple(faults))


@dataclass
class CapacityProjection:
    hours_ms: list[int]
    demand_kw: list[float | None]
    dump_kw: float
    tank_kw: float
    tank_headroom_kwh: float
    absorbable_kw: list[float | None]
    it_kw: float | None
    assumptions: list[str]
    history_hours: int
    faults: tuple[str, ...] = ()
    plant: PlantState = PlantState()

    def counted(self) -> dict[str, list[float | None]]:
        """Per hour, what each source contributes to ``absorbable_kw``, after the faults."""
        hours = len(self.hours_ms)
        flowing, online = self.plant.loop_flowing, self.plant.consumer_online
        return {
            "demand": [(d if online else 0.0) if flowing else 0.0 for d in self.demand_kw],
            "dump": [self.dump_kw if flowing else 0.0] * hours,
            "tank": [self.tank_kw if flowing else 0.0] * hours,
        }

    @property
    def minimum_kw(self) -> float | None:
        values = [v for v in self.absorbable_kw if v is not None]
        return min(values) if values else None


def project_capacity(
    *,
    client: InfluxClient,
    cfg: SiteConfig,
    timezone: str,
    soc: float | None,
    it_kw: float | None,
    plant: PlantState | None = None,
    now: datetime | None = None,
) -> CapacityProjection:
    now = now or datetime.now(UTC)
    plant = plant or PlantState()
    tz = zoneinfo.ZoneInfo(timezone)
    series = client.window(
        measurement="consumer",
        fields=["demand_kw"],
        tags={"site": cfg.slug},
        start=now - timedelta(days=HISTORY_DAYS),
        end=now,
        every="1h",
    )
    by_hour: dict[int, list[float]] = {}
    for s in series:
        for t_ms, value in s.values:
            if value is not None:
                local_hour = datetime.fromtimestamp(t_ms / 1000, UTC).astimezone(tz).hour
                by_hour.setdefault(local_hour, []).append(value)
    history_hours = sum(len(v) for v in by_hour.values())

    headroom_kwh = 0.0
    if soc is not None and cfg.tank_volume_l:
        full_kwh = tank_heat_kwh(cfg.tank_volume_l, USABLE_TANK_DELTA_K)
        headroom_kwh = max(0.0, (100 - soc) / 100 * full_kwh)
    tank_kw = headroom_kwh / 24

    start = now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    hours, demand, absorbable = [], [], []
    for i in range(24):
        hour = start + timedelta(hours=i)
        values = by_hour.get(hour.astimezone(tz).hour)
        expected = sum(values) / len(values) if values else None
        hours.append(int(hour.timestamp() * 1000))
        demand.append(expected)
        if not plant.loop_flowing:
            absorbable.append(0.0)
        elif not plant.consumer_online:
            absorbable.append(cfg.dump_kw + tank_kw)
        elif expected is None:
            absorbable.append(None)
        else:
            absorbable.append(expected + cfg.dump_kw + tank_kw)

    assumptions = [
        f"Consumer demand at each hour is its mean at that hour over the last {HISTORY_DAYS} days "
        f"({history_hours} hourly means found).",
        f"The dump path (dry cooler) can reject {cfg.dump_kw:.0f} kW at any time."
        if cfg.dump_kw
        else "There is no dump path: surplus heat has nowhere to go.",
        (
            f"The tank ({cfg.tank_volume_l:,.0f} l, {soc:.0f} % charged) can still take {headroom_kwh:.0f} kWh "
            f"over about {USABLE_TANK_DELTA_K:.0f} K, counted as {tank_kw:.1f} kW spread over 24 h."
        )
        if soc is not None and cfg.tank_volume_l
        else "No tank state of charge: tank headroom not counted.",
        "1 kW of IT load becomes about 1 kW of heat.",
    ]
    return CapacityProjection(
        hours,
        demand,
        cfg.dump_kw,
        tank_kw,
        headroom_kwh,
        absorbable,
        it_kw,
        assumptions,
        history_hours,
        plant.faults,
        plant,
    )
