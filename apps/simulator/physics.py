"""A deterministic model of one heat-reuse site, and the telemetry its agents would send.

Pure: no database, no network, no clock. ``SiteModel.step(at, dt)`` advances the plant by
``dt`` seconds to the moment ``at`` and returns that moment's points (as
``apps.telemetry.influx.points.Point``, each fitting ``apps.telemetry.schema``). The same seed,
start and steps give the same points, so tests and demos are reproducible.

The plant:

    racks --primary loop--> plate heat exchanger --secondary--> [heat pump] --> buffer tank --> consumer
                 \\--> dry cooler (dump path), in parallel with the exchanger

Why it is built this way:
- Heat and flow always agree: q [kW] = flow [m3/h] x 998/3600 x 4.18 x delta-T. The heat
  meter's power is computed from the very flow and temperatures it reports.
- The heat meter is the hand-over meter: on the circuit that charges the building's buffer
  tank (after the heat pump, where there is one), where the heat changes hands and the
  contract bills it. ``consumer.delivered_kw`` is what the tank then gives the building.
- Energy is conserved: IT heat goes into the rack coolant, the coolant into the loop, the
  loop out through the exchanger (into the tank) or the dry cooler; the tank feeds the
  consumer. Nothing delivered can exceed IT heat plus the heat pump's electricity.
- Thermal masses (rack coolant, primary pipework, tank, the consumer's building or pool)
  are integrated with exact first-order updates, so faults develop over minutes and any
  step from 1 s to a minute is stable.
- Controllers are idealised: the pump holds a design delta-T; the charging circuit (or the
  heat pump) takes heat to hold the primary supply at its set point; the dry cooler opens
  a little above it, so it only runs when the building side cannot take the heat.

Conventions: internally ``t_supply`` is the cool water the controllers hold at the racks'
inlet and ``t_rack`` the hot water leaving them. The points follow the heating convention
of docs/telemetry.md: the primary loop's reported *supply* is the hot water leaving the
racks, its *return* the cooler water arriving at their inlets (``t_inlet``), and
``delta_t_k`` = supply - return, positive while heat flows.
"""

from __future__ import annotations

import math
import random
import zoneinfo
from collections.abc import Iterable, Mapping
from datetime import datetime

from apps.assets.water import KW_PER_M3H_K, flow_for_heat_m3h
from apps.telemetry.influx.points import Point

from .choices import FaultKind
from .design import PRIMARY_DELTA_T_K, T_ROOM_C, design_for
from .numerics import clamp, r2, relax
from .plant import Outputs, substep
from .profiles import consumer_demand, outdoor_temp_c
from .specs import SiteSpec
from .telemetry import LIQUID_CAPTURE, site_points
from .workload import IDLE_SHARE, Node, Rack, advance_workload, node_power

MAX_SUBSTEP_S = 10.0


class SiteModel:
    """The state of one site's plant, stepped forward in time."""

    def __init__(self, spec: SiteSpec, *, seed: int | str = 0, soc_pct: float = 50.0) -> None:
        self.spec = spec
        self.tz = zoneinfo.ZoneInfo(spec.timezone)
        self.rng = random.Random(f"heatops-simulator:{seed}:{spec.slug}")
        self.design = design_for(spec)
        rng = self.rng
        self.racks = [
            Rack(
                spec=rack,
                inlet_offset=rng.uniform(0.0, 0.3),
                nodes=[Node(n, rng.uniform(-0.06, 0.06), rng.uniform(0.05, 0.4)) for n in rack.nodes],
                pdu_energy=[0.0] * len(rack.pdu_tags),
            )
            for rack in spec.racks
        ]
        self.nodes = [node for rack in self.racks for node in rack.nodes]

        # workload and weather noise (Ornstein-Uhlenbeck processes), batch bursts
        self.load_noise = 0.0
        self.demand_noise = 0.0
        self.weather_noise = 0.0
        self.clock_s = 0.0
        self.burst_until_s = 0.0
        self.burst_level = 0.0
        self.burst_nodes: frozenset[int] = frozenset()

        # thermal state, starting at the design operating point
        d = self.design
        q_in = spec.rated_it_kw * (IDLE_SHARE + (1 - IDLE_SHARE) * 0.5) * LIQUID_CAPTURE
        self.flow = clamp(
            flow_for_heat_m3h(q_in, PRIMARY_DELTA_T_K), spec.pump.min_flow_m3h, spec.pump.max_flow_m3h
        )
        self.t_supply = d.t_set
        self.t_rack = d.t_set + q_in / (self.flow * KW_PER_M3H_K)
        self.t_inlet = d.t_set
        self.tank_energy = d.tank_capacity_kwh * clamp(soc_pct, 0.0, 100.0) / 100.0
        self.consumer_temp: float | None = None
        self.meter_energy = 0.0
        self.out = Outputs(
            secondary_supply=d.t_hot, secondary_return=d.t_cold, meter_supply=d.t_hot, meter_return=d.t_cold
        )
        self.hp_outlet = d.t_hot
        self.stuck_supply: float | None = None
        self.dump_active = False

        # tags used on every tick, built once
        self.site_tags = {"site": spec.slug}
        self.primary_tags = {"site": spec.slug, "loop": "primary"}
        self.secondary_tags = {"site": spec.slug, "loop": "secondary"}

    def restore(
        self, *, registers: Mapping[tuple[str, str], float] | None = None, soc_pct: float | None = None
    ) -> None:
        """Continue from readings a previous run left in InfluxDB.

        ``registers`` maps (measurement, asset slug) to the last ``energy_kwh`` of that heat
        meter or PDU: cumulative registers must never go back.
        """
        registers = registers or {}
        if self.spec.heat_meter_tags is not None:
            key = ("heat_meter", self.spec.heat_meter_tags.get("asset", ""))
            self.meter_energy = max(self.meter_energy, registers.get(key, 0.0))
        for rack in self.racks:
            for i, tags in enumerate(rack.spec.pdu_tags):
                rack.pdu_energy[i] = max(
                    rack.pdu_energy[i], registers.get(("pdu", tags.get("asset", "")), 0.0)
                )
        if soc_pct is not None:
            self.tank_energy = self.design.tank_capacity_kwh * clamp(soc_pct, 0.0, 100.0) / 100.0

    @property
    def soc_pct(self) -> float:
        return 100.0 * self.tank_energy / self.design.tank_capacity_kwh

    # -- stepping -------------------------------------------------------------------------

    def step(self, at: datetime, dt: float, *, faults: Iterable[str] = (), speed: float = 1.0) -> list[Point]:
        """Advance ``dt`` seconds to ``at``; return the points for ``at`` (none while the
        site's telemetry is lost).

        ``speed`` runs the plant's dynamics that many times faster than the clock (a demo
        sees a tank fill in minutes); daily patterns, timestamps and energy registers keep
        to the clock, so registers stay the integral of the reported power.
        """
        faults = frozenset(faults)
        h_total = dt * speed
        local = at.astimezone(self.tz)
        hour = local.hour + local.minute / 60.0 + local.second / 3600.0
        day = local.date()
        weekday = local.weekday()
        rng = self.rng

        # weather and the consumer's demand for this tick
        a = math.exp(-h_total / (8 * 3600.0))
        self.weather_noise = a * self.weather_noise + 1.5 * math.sqrt(1 - a * a) * rng.gauss(0.0, 1.0)
        outdoor = outdoor_temp_c(local.timetuple().tm_yday, hour) + self.weather_noise
        demand, target = consumer_demand(
            self.spec.kind, self.spec.capacity_kw or self.spec.rated_it_kw * 0.7, day, weekday, hour, outdoor
        )
        a = math.exp(-h_total / 1800.0)
        self.demand_noise = a * self.demand_noise + 0.05 * math.sqrt(1 - a * a) * rng.gauss(0.0, 1.0)
        demand = max(0.0, demand * (1.0 + self.demand_noise))
        online = FaultKind.CONSUMER_OFFLINE not in faults and FaultKind.OVERHEATING not in faults

        # IT load: workload profile, then each node's own protection against heat
        advance_workload(self, h_total, hour, weekday)
        first = next((rack.nodes[0] for rack in self.racks if rack.nodes), None)
        if first is not None:
            first.removed = FaultKind.SERVER_REMOVED in faults
        it_power = node_power(self)
        q_in = it_power * LIQUID_CAPTURE

        # the plant, in sub-steps short enough to follow the thermal masses
        n = max(1, math.ceil(h_total / MAX_SUBSTEP_S - 1e-9))
        h = h_total / n
        meter_kwh = 0.0
        for _ in range(n):
            substep(self, h, q_in, demand, online, faults, outdoor)
            meter_kwh += self.out.q_charge * h / 3600.0
        self.meter_energy += meter_kwh / speed  # registers keep to the clock
        for rack in self.racks:
            share = rack.power / max(len(rack.pdu_energy), 1)
            for i in range(len(rack.pdu_energy)):
                rack.pdu_energy[i] += share * dt / 3600.0

        # pipe sensors in stagnant water drift towards the room
        out = self.out
        if out.secondary_flow <= 0.0:
            out.secondary_supply = relax(out.secondary_supply, T_ROOM_C, h_total, 3600.0)
            out.secondary_return = relax(out.secondary_return, T_ROOM_C, h_total, 3600.0)
        if out.meter_flow <= 0.0:
            out.meter_supply = relax(out.meter_supply, T_ROOM_C, h_total, 3600.0)
            out.meter_return = relax(out.meter_return, T_ROOM_C, h_total, 3600.0)
        self.hp_outlet = (
            self.design.t_hot if out.q_charge > 0.0 else relax(self.hp_outlet, T_ROOM_C, h_total, 1800.0)
        )

        # the building: its own boiler covers what the recovered heat does not
        shortfall = 1.0 - self.out.delivered / demand if demand > 0.1 else 0.0
        goal = target - 1.2 * shortfall
        if self.consumer_temp is None:
            self.consumer_temp = goal
        tau = 8 * 3600.0 if self.spec.kind == "pool" else 3600.0
        self.consumer_temp = relax(self.consumer_temp, goal, h_total, tau)

        if FaultKind.STUCK_SENSOR in faults:
            if self.stuck_supply is None:
                self.stuck_supply = r2(self.t_rack)
        else:
            self.stuck_supply = None

        if FaultKind.LOST_TELEMETRY in faults:
            return []
        return site_points(self, at, it_power, demand, target, online, outdoor, faults)
