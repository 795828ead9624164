"""One sub-step of the plant: pump, rack coolant, heat exchanger (and heat pump), dump
path, tank and consumer, integrated with exact first-order updates."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from apps.assets.water import KW_PER_M3H_K, flow_for_heat_m3h, heat_kw

from .choices import FaultKind
from .design import PRIMARY_DELTA_T_K, SOURCE_DELTA_T_K, T_ROOM_C
from .numerics import clamp, heat_pump_cop, relax, tank_temperatures

if TYPE_CHECKING:
    from .physics import SiteModel

TAU_CONTROL_S = 60.0  # how fast the controllers pull the primary supply back to its set point


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


def substep(
    model: SiteModel, h: float, q_in: float, demand: float, online: bool, faults: frozenset, outdoor: float
) -> None:
    spec, d, out = model.spec, model.design, model.out
    pump = spec.pump

    # primary pump: holds the design delta-T, runs flat out if the racks run hot
    if FaultKind.PUMP_FAILURE in faults:
        model.flow = relax(model.flow, 0.0, h, 4.0)
        if model.flow < 0.02:
            model.flow = 0.0
    else:
        target = clamp(flow_for_heat_m3h(q_in, PRIMARY_DELTA_T_K), pump.min_flow_m3h, pump.max_flow_m3h)
        if model.t_rack > d.t_set + PRIMARY_DELTA_T_K + 4.0:
            target = pump.max_flow_m3h
        model.flow = relax(model.flow, target, h, 20.0)
    m_cp = model.flow * KW_PER_M3H_K  # kW/K

    # rack coolant: heated by the IT, flushed by the flow, a little loss to the room
    k = m_cp + d.ua_rack
    t_eq = (q_in + m_cp * model.t_supply + d.ua_rack * T_ROOM_C) / k
    tau = d.c_rack / k
    a = math.exp(-h / tau)
    t_old = model.t_rack
    t_new = t_eq + (t_old - t_eq) * a
    t_mean = t_eq + (t_old - t_eq) * (1.0 - a) * tau / h
    carried = q_in * h - d.ua_rack * (t_mean - T_ROOM_C) * h - d.c_rack * (t_new - t_old)  # kJ
    model.t_rack = t_new
    if m_cp <= 0.0:
        carried = 0.0

    # the rack inlet sensor follows the supply while water flows, the hot rack when not
    if model.flow > 0.1 * pump.min_flow_m3h:
        model.t_inlet = relax(model.t_inlet, model.t_supply, h, 30.0)
    else:
        model.t_inlet = relax(model.t_inlet, model.t_rack, h, 600.0)

    # tank and consumer
    soc = model.tank_energy / d.tank_capacity_kwh
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
    t_hot_in = model.t_rack
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
    pipe_loss = d.ua_supply * (model.t_supply - T_ROOM_C) * h
    q_hx = clamp((carried - pipe_loss + pull * (model.t_supply - d.t_set)) / h, 0.0, capacity)

    # dump path: a dry cooler opening just above the set point
    if FaultKind.OVERHEATING in faults:
        dump_capacity = 0.0
    else:
        lift = max(0.0, t_hot_in - outdoor)
        dump_capacity = min(spec.dry_cooler.rated_kw, spec.dry_cooler.rated_kw / 25.0 * lift, m_cp * lift)
    wanted = (carried - pipe_loss + pull * (model.t_supply - d.t_dump)) / h - q_hx
    # hysteresis: it opens for a clear need and stays open until the need is gone
    model.dump_active = wanted > (0.1 if model.dump_active else 1.0) and dump_capacity > 0.0
    q_dump = clamp(wanted, 0.0, dump_capacity) if model.dump_active else 0.0

    model.t_supply += (carried - pipe_loss - (q_hx + q_dump) * h) / d.c_supply

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

    model.tank_energy = clamp(
        model.tank_energy + (q_charge - delivered - tank_loss) * h / 3600.0, 0.0, d.tank_capacity_kwh
    )
    out.q_in, out.q_hx, out.q_dump, out.q_charge = q_in, q_hx, q_dump, q_charge
    out.delivered, out.hp_power, out.cop, out.dump_capacity = delivered, hp_power, cop, dump_capacity
