"""A deterministic model of one heat-reuse site, and the telemetry its agents would send.

Pure: no database, no network, no clock. ``SiteModel.step(at, dt)`` advances the plant by
``dt`` seconds to the moment ``at`` and returns that moment's points (as
``apps.telemetry.influx.points.Point``, each fitting ``apps.telemetry.schema``). The same seed,
start and steps give the same points, so tests and demos are reproducible.

The plant (DESIGN.md, "The physical system"):

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
from dataclasses import dataclass, field
from datetime import datetime

from apps.telemetry.influx.points import Point

from .choices import FaultKind
from .profiles import consumer_demand, outdoor_temp_c
from .specs import NodeSpec, RackSpec, SiteSpec
from .telemetry import LIQUID_CAPTURE, site_points
from .water import (
    CP_WATER,
    KW_PER_M3H_K,
    RHO_WATER,
    clamp,
    flow_for_heat_m3h,
    heat_kw,
    heat_pump_cop,
    r2,
    relax,
    tank_temperatures,
)

# --- the model ----------------------------------------------------------------------------

T_ROOM_C = 24.0  # plant room
PRIMARY_DELTA_T_K = 8.0  # the pump's design delta-T
HX_APPROACH_K = 2.0
SOURCE_DELTA_T_K = 6.0  # heat pump evaporator circuit
MAX_SUBSTEP_S = 10.0
TAU_CONTROL_S = 60.0  # how fast the controllers pull the primary supply back to its set point
IDLE_SHARE = 0.22  # a node's power at 0 % utilisation, as a share of rated
THROTTLED_SHARE = 0.55  # a throttled node's power cap, as a share of rated
TRIPPED_SHARE = 0.02  # a node shut down by its own protection: BMC and fans only
BURST_EVERY_S = 6 * 3600.0


@dataclass
class Design:
    """Set points and sizes derived once from the spec (see SiteModel.design_for)."""

    t_set: float  # primary supply set point (rack inlet)
    t_dump: float  # the dry cooler holds the primary supply here
    t_hot: float  # tank charging temperature
    t_cold: float  # consumer return temperature
    c_rack: float  # kJ/K, coolant and cold plates in the racks
    c_supply: float  # kJ/K, the rest of the primary loop
    ua_rack: float  # kW/K, rack losses to the room
    ua_supply: float  # kW/K, pipe losses
    ua_tank: float  # kW/K
    tank_capacity_kwh: float
    secondary_max_flow_m3h: float
    consumer_max_flow_m3h: float
    charge_max_kw: float


@dataclass
class Outputs:
    """What one sub-step computed that the points report."""

    q_in: float = 0.0
    q_hx: float = 0.0
    q_dump: float = 0.0
    q_charge: float = 0.0
    delivered: float = 0.0
    hp_power: float = 0.0
    cop: float = 0.0
    dump_capacity: float = 0.0
    secondary_flow: float = 0.0
    secondary_supply: float = 0.0
    secondary_return: float = 0.0
    meter_flow: float = 0.0
    meter_supply: float = 0.0
    meter_return: float = 0.0


@dataclass
class _Node:
    spec: NodeSpec
    bias: float
    inlet_offset: float
    jitter: float = 0.0
    utilisation: float = 0.0
    power: float = 0.0
    throttled: bool = False
    tripped: bool = False


@dataclass
class _Rack:
    spec: RackSpec
    inlet_offset: float
    nodes: list[_Node] = field(default_factory=list)
    power: float = 0.0
    pdu_energy: list[float] = field(default_factory=list)


class SiteModel:
    """The state of one site's plant, stepped forward in time."""

    def __init__(self, spec: SiteSpec, *, seed: int | str = 0, soc_pct: float = 50.0) -> None:
        self.spec = spec
        self.tz = zoneinfo.ZoneInfo(spec.timezone)
        self.rng = random.Random(f"heatops-simulator:{seed}:{spec.slug}")
        self.design = self.design_for(spec)
        rng = self.rng
        self.racks = [
            _Rack(
                spec=rack,
                inlet_offset=rng.uniform(0.0, 0.3),
                nodes=[_Node(n, rng.uniform(-0.06, 0.06), rng.uniform(0.05, 0.4)) for n in rack.nodes],
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

    # -- set-up ---------------------------------------------------------------------------

    @staticmethod
    def design_for(spec: SiteSpec) -> Design:
        """Set points that make sense for this plant.

        The tank is charged at the middle of the contract's supply band, as far as the
        plant allows. Without a heat pump the racks must run hot enough for that (inlet a
        few K under their limit); with one, the racks run cooler and the heat pump lifts.
        """
        rated = max(spec.rated_it_kw, 1.0)
        max_inlet = min((r.max_inlet_c for r in spec.racks), default=45.0)
        t_hot = (spec.supply_min_c + spec.supply_max_c) / 2.0
        if spec.tank.max_temp_c is not None:
            t_hot = min(t_hot, spec.tank.max_temp_c - 2.0)
        if spec.heat_pump is not None:
            t_hot = min(t_hot, spec.heat_pump.max_supply_c - 3.0)
            t_set = max_inlet - 7.0
        else:
            t_set = min(t_hot + HX_APPROACH_K - PRIMARY_DELTA_T_K, max_inlet - 3.0)
            t_hot = min(t_hot, t_set + PRIMARY_DELTA_T_K - HX_APPROACH_K)
            if spec.heat_exchanger.max_supply_c is not None:
                t_hot = min(t_hot, spec.heat_exchanger.max_supply_c)
        t_cold = min({"pool": 30.0, "school": 40.0}.get(spec.kind, 35.0), t_hot - 8.0)
        tank_kg = spec.tank.volume_l * RHO_WATER / 1000.0
        charge_max = spec.heat_exchanger.rated_kw + (spec.heat_pump.rated_kw if spec.heat_pump else 0.0)
        capacity = spec.capacity_kw or rated * 0.7
        return Design(
            t_set=t_set,
            t_dump=t_set + 1.5,
            t_hot=t_hot,
            t_cold=t_cold,
            c_rack=2.0 * rated * CP_WATER,
            c_supply=4.0 * rated * CP_WATER,
            ua_rack=0.0003 * rated,
            ua_supply=0.0005 * rated,
            ua_tank=0.004 * spec.tank.volume_l / 1000.0,
            tank_capacity_kwh=tank_kg * CP_WATER * (t_hot - t_cold) / 3600.0,
            secondary_max_flow_m3h=flow_for_heat_m3h(spec.heat_exchanger.rated_kw, 4.0),
            consumer_max_flow_m3h=flow_for_heat_m3h(1.5 * capacity, t_hot - t_cold),
            charge_max_kw=charge_max,
        )

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
        self._advance_workload(h_total, hour, weekday)
        it_power = self._node_power()
        q_in = it_power * LIQUID_CAPTURE

        # the plant, in sub-steps short enough to follow the thermal masses
        n = max(1, math.ceil(h_total / MAX_SUBSTEP_S - 1e-9))
        h = h_total / n
        meter_kwh = 0.0
        for _ in range(n):
            self._substep(h, q_in, demand, online, faults, outdoor)
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

    def _advance_workload(self, h: float, hour: float, weekday: int) -> None:
        """Daily pattern plus noise plus occasional batch bursts on some of the nodes."""
        rng = self.rng
        a = math.exp(-h / 1200.0)
        self.load_noise = a * self.load_noise + 0.06 * math.sqrt(1 - a * a) * rng.gauss(0.0, 1.0)
        self.clock_s += h
        if self.clock_s >= self.burst_until_s:
            self.burst_level = 0.0
            if rng.random() < 1.0 - math.exp(-h / BURST_EVERY_S):
                self.burst_until_s = self.clock_s + rng.uniform(20 * 60.0, 120 * 60.0)
                self.burst_level = rng.uniform(0.2, 0.4)
                count = len(self.nodes)
                self.burst_nodes = frozenset(
                    rng.sample(range(count), k=max(1, rng.randint(count // 2, count)))
                )
        base = 0.52 + 0.12 * math.sin(2.0 * math.pi * (hour - 8.0) / 24.0) - (0.06 if weekday >= 5 else 0.0)
        base += self.load_noise
        aj = math.exp(-h / 180.0)
        sj = 0.04 * math.sqrt(1 - aj * aj)
        burst, burst_nodes = self.burst_level, self.burst_nodes
        for i, node in enumerate(self.nodes):
            node.jitter = aj * node.jitter + sj * rng.gauss(0.0, 1.0)
            u = base + node.bias + node.jitter + (burst if i in burst_nodes else 0.0)
            node.utilisation = clamp(u, 0.03, 1.0)

    def _node_power(self) -> float:
        """Each node's power; a node throttles, then shuts down, as its coolant overheats."""
        it_power = 0.0
        t_rack = self.t_rack
        for rack in self.racks:
            rack_inlet = self.t_inlet + rack.inlet_offset
            total = 0.015 * rack.spec.rated_kw  # switches and management
            for node in rack.nodes:
                limit = node.spec.max_inlet_c
                inlet = rack_inlet + node.inlet_offset
                if inlet >= limit + 10.0 or t_rack >= limit + 30.0:
                    node.tripped = True
                elif node.tripped and inlet < limit - 2.0 and t_rack < limit + 10.0:
                    node.tripped = False
                if inlet >= limit or t_rack >= limit + 15.0:
                    node.throttled = True
                elif node.throttled and inlet < limit - 2.0 and t_rack < limit + 12.0:
                    node.throttled = False
                rated = node.spec.rated_kw
                if node.tripped:
                    node.power = TRIPPED_SHARE * rated
                else:
                    power = rated * (IDLE_SHARE + (1.0 - IDLE_SHARE) * node.utilisation)
                    node.power = min(power, THROTTLED_SHARE * rated) if node.throttled else power
                total += node.power
            rack.power = total
            it_power += total
        return it_power

    def _substep(
        self, h: float, q_in: float, demand: float, online: bool, faults: frozenset, outdoor: float
    ) -> None:
        spec, d, out = self.spec, self.design, self.out
        pump = spec.pump

        # primary pump: holds the design delta-T, runs flat out if the racks run hot
        if FaultKind.PUMP_FAILURE in faults:
            self.flow = relax(self.flow, 0.0, h, 4.0)
            if self.flow < 0.02:
                self.flow = 0.0
        else:
            target = clamp(flow_for_heat_m3h(q_in, PRIMARY_DELTA_T_K), pump.min_flow_m3h, pump.max_flow_m3h)
            if self.t_rack > d.t_set + PRIMARY_DELTA_T_K + 4.0:
                target = pump.max_flow_m3h
            self.flow = relax(self.flow, target, h, 20.0)
        m_cp = self.flow * KW_PER_M3H_K  # kW/K

        # rack coolant: heated by the IT, flushed by the flow, a little loss to the room
        k = m_cp + d.ua_rack
        t_eq = (q_in + m_cp * self.t_supply + d.ua_rack * T_ROOM_C) / k
        tau = d.c_rack / k
        a = math.exp(-h / tau)
        t_old = self.t_rack
        t_new = t_eq + (t_old - t_eq) * a
        t_mean = t_eq + (t_old - t_eq) * (1.0 - a) * tau / h
        carried = q_in * h - d.ua_rack * (t_mean - T_ROOM_C) * h - d.c_rack * (t_new - t_old)  # kJ
        self.t_rack = t_new
        if m_cp <= 0.0:
            carried = 0.0

        # the rack inlet sensor follows the supply while water flows, the hot rack when not
        if self.flow > 0.1 * pump.min_flow_m3h:
            self.t_inlet = relax(self.t_inlet, self.t_supply, h, 30.0)
        else:
            self.t_inlet = relax(self.t_inlet, self.t_rack, h, 600.0)

        # tank and consumer
        soc = self.tank_energy / d.tank_capacity_kwh
        top, bottom = tank_temperatures(soc, d.t_cold, d.t_hot)
        if online:
            possible = heat_kw(d.consumer_max_flow_m3h, max(0.0, top - d.t_cold))
            delivered = min(demand, possible)
        else:
            delivered = 0.0
        tank_loss = d.ua_tank * (d.t_cold + (d.t_hot - d.t_cold) * soc - T_ROOM_C)
        if FaultKind.OVERHEATING in faults:
            allowed = 0.0  # the building side has shut its valves
        else:
            taper = clamp((1.0 - soc) / 0.04, 0.0, 1.0)
            allowed = max(0.0, delivered + tank_loss + taper * d.charge_max_kw)

        # heat exchanger (and heat pump): hold the primary supply at its set point
        hx = spec.heat_exchanger
        approach = 1.0 + 2.0 * out.q_hx / hx.rated_kw
        t_hot_in = self.t_rack
        if spec.heat_pump is not None:
            t_so = t_hot_in - approach
            if hx.max_supply_c is not None:
                t_so = min(t_so, hx.max_supply_c)
            t_si = t_so - SOURCE_DELTA_T_K
            cop = heat_pump_cop(d.t_hot, t_si)
            capacity = min(
                hx.rated_kw,
                heat_kw(d.secondary_max_flow_m3h, SOURCE_DELTA_T_K),
                spec.heat_pump.rated_kw * (cop - 1.0),
                allowed * (cop - 1.0) / cop,
                m_cp * (t_hot_in - t_si),
            )
        else:
            t_so = min(d.t_hot, t_hot_in - approach)
            t_si = bottom
            cop = 0.0
            capacity = 0.0
            if t_so > t_si + 0.3:
                capacity = min(
                    hx.rated_kw,
                    heat_kw(d.secondary_max_flow_m3h, t_so - t_si),
                    allowed,
                    m_cp * (t_hot_in - t_si),
                )
        capacity = max(capacity, 0.0)
        pull = d.c_supply * (1.0 - math.exp(-h / TAU_CONTROL_S))
        pipe_loss = d.ua_supply * (self.t_supply - T_ROOM_C) * h
        q_hx = clamp((carried - pipe_loss + pull * (self.t_supply - d.t_set)) / h, 0.0, capacity)

        # dump path: a dry cooler opening just above the set point
        if FaultKind.OVERHEATING in faults:
            dump_capacity = 0.0
        else:
            lift = max(0.0, t_hot_in - outdoor)
            dump_capacity = min(spec.dry_cooler.rated_kw, spec.dry_cooler.rated_kw / 25.0 * lift, m_cp * lift)
        wanted = (carried - pipe_loss + pull * (self.t_supply - d.t_dump)) / h - q_hx
        # hysteresis: it opens for a clear need and stays open until the need is gone
        self.dump_active = wanted > (0.1 if self.dump_active else 1.0) and dump_capacity > 0.0
        q_dump = clamp(wanted, 0.0, dump_capacity) if self.dump_active else 0.0

        self.t_supply += (carried - pipe_loss - (q_hx + q_dump) * h) / d.c_supply

        # what the building side receives: the heat meter sits on the circuit charging the
        # tank (after the heat pump, where there is one), where the heat changes hands
        if spec.heat_pump is not None:
            hp_power = q_hx / (cop - 1.0)
            q_charge = q_hx + hp_power
            out.secondary_flow = flow_for_heat_m3h(q_hx, SOURCE_DELTA_T_K)
            meter_supply, meter_return = d.t_hot, bottom
        else:
            hp_power = 0.0
            q_charge = q_hx
            out.secondary_flow = flow_for_heat_m3h(q_hx, t_so - t_si)
            meter_supply, meter_return = t_so, t_si
        if out.secondary_flow > 0.0:  # sensors in still water keep drifting (see step)
            out.secondary_supply, out.secondary_return = t_so, t_si
        out.meter_flow = flow_for_heat_m3h(q_charge, meter_supply - meter_return)
        if out.meter_flow > 0.0:
            out.meter_supply, out.meter_return = meter_supply, meter_return

        self.tank_energy = clamp(
            self.tank_energy + (q_charge - delivered - tank_loss) * h / 3600.0, 0.0, d.tank_capacity_kwh
        )
        out.q_in, out.q_hx, out.q_dump, out.q_charge = q_in, q_hx, q_dump, q_charge
        out.delivered, out.hp_power, out.cop, out.dump_capacity = delivered, hp_power, cop, dump_capacity

    # -- telemetry ------------------------------------------------------------------------
