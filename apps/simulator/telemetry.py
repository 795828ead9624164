"""What a site's instruments report about the model's state at one moment.

Values are rounded to what real instruments resolve (shorter lines for InfluxDB to parse,
too). The heat meter's power is computed from the very flow and temperatures it reports,
so the two always agree.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from apps.assets.water import heat_kw
from apps.telemetry.influx.points import Point

from .choices import FaultKind, SimulatedSensorKind
from .numerics import clamp, r1, r2, r3, r4, tank_temperatures

if TYPE_CHECKING:
    from .physics import SiteModel

LIQUID_CAPTURE = 0.97  # share of IT power that reaches the coolant; the rest warms the room


def site_points(
    model: SiteModel,
    at: datetime,
    it_power: float,
    demand: float,
    target: float,
    online: bool,
    outdoor: float,
    faults: frozenset,
) -> list[Point]:
    """This moment's telemetry. Values are rounded to what real instruments resolve
    (shorter lines for InfluxDB to parse, too)."""
    spec, d, out = model.spec, model.design, model.out
    ns = int(at.timestamp()) * 1_000_000_000 + at.microsecond * 1000
    points: list[Point] = []
    add = points.append

    for rack in model.racks:
        rack_inlet = r2(model.t_inlet + rack.inlet_offset)
        add(Point("rack", rack.spec.tags, {"power_kw": r3(rack.power), "inlet_temp_c": rack_inlet}, ns))
        for node in rack.nodes:
            if node.spec.tags is not None and not node.removed:
                fields = {
                    "power_kw": r3(node.power),
                    "utilisation_pct": 0.0 if node.tripped else r1(100.0 * node.utilisation),
                    "inlet_temp_c": r2(rack_inlet + node.inlet_offset),
                    "throttled": node.throttled or node.tripped,
                }
                add(Point("node", node.spec.tags, fields, ns))
        if rack.pdu_energy:
            share = r3(rack.power / len(rack.pdu_energy))
            for tags, energy in zip(rack.spec.pdu_tags, rack.pdu_energy, strict=True):
                add(Point("pdu", tags, {"power_kw": share, "energy_kwh": r4(energy)}, ns))

    # primary loop and pump
    # heating convention (docs/telemetry.md): supply is the hot water leaving the racks for
    # the heat exchanger, return the cooler water coming back to the racks' inlets
    supply = model.stuck_supply if model.stuck_supply is not None else r2(model.t_rack)
    ret = r2(model.t_inlet)
    add(_loop_point(model.primary_tags, supply, ret, model.flow, ns))
    running = FaultKind.PUMP_FAILURE not in faults
    pump = spec.pump
    speed_pct = 100.0 * model.flow / pump.max_flow_m3h if running else 0.0
    pump_power = pump.rated_kw * (0.06 + 0.94 * (speed_pct / 100.0) ** 3) if running else 0.0
    if pump.tags is not None:
        fields = {"speed_pct": r1(speed_pct), "power_kw": r3(pump_power), "running": running}
        add(Point("pump", pump.tags, fields, ns))

    # heat exchanger and secondary loop
    sec_supply, sec_return = r2(out.secondary_supply), r2(out.secondary_return)
    if spec.heat_exchanger.tags is not None:
        fields = {"heat_kw": r3(out.q_hx), "approach_k": r2(model.t_rack - out.secondary_supply)}
        add(Point("heat_exchanger", spec.heat_exchanger.tags, fields, ns))
    add(_loop_point(model.secondary_tags, sec_supply, sec_return, out.secondary_flow, ns))

    # heat pump: heat out = heat in + electricity in
    hp = spec.heat_pump
    if hp is not None and hp.tags is not None:
        fields = {
            "power_kw": r3(out.hp_power),
            "heat_kw": r3(out.q_charge),
            "outlet_temp_c": r2(model.hp_outlet),
        }
        if out.hp_power > 0.0:
            fields["cop"] = r3(out.cop)
        add(Point("heat_pump", hp.tags, fields, ns))

    # tank
    soc = model.tank_energy / d.tank_capacity_kwh
    if spec.tank.tags is not None:
        top, bottom = tank_temperatures(soc, d.t_cold, d.t_hot)
        fields = {"top_temp_c": r2(top), "bottom_temp_c": r2(bottom), "soc_pct": r2(100.0 * soc)}
        add(Point("tank", spec.tank.tags, fields, ns))

    # heat meter: power from its own flow and temperatures, exactly
    if spec.heat_meter_tags is not None:
        flow = r4(out.meter_flow)
        m_supply, m_return = r2(out.meter_supply), r2(out.meter_return)
        fields = {
            "power_kw": r4(heat_kw(flow, m_supply - m_return)) if flow else 0.0,
            "energy_kwh": r4(model.meter_energy),
            "flow_m3h": flow,
            "supply_temp_c": m_supply,
            "return_temp_c": m_return,
        }
        add(Point("heat_meter", spec.heat_meter_tags, fields, ns))

    # dump path
    dc = spec.dry_cooler
    fan_power = 0.0
    if out.q_dump > 0.0:
        fan_speed = clamp(out.q_dump / max(out.dump_capacity, 1e-6), 0.2, 1.0)
        fan_power = 0.025 * dc.rated_kw * fan_speed**3
    if dc.tags is not None:
        fields = {"heat_kw": r3(out.q_dump), "power_kw": r3(fan_power), "active": out.q_dump > 0.0}
        add(Point("dry_cooler", dc.tags, fields, ns))

    # the building, the weather, stand-alone sensors, the facility
    fields = {
        "demand_kw": r3(demand),
        "delivered_kw": r3(out.delivered),
        "target_temp_c": target,
        "temp_c": r2(model.consumer_temp),
        "online": online,
    }
    add(Point("consumer", model.site_tags, fields, ns))
    add(Point("weather", model.site_tags, {"outdoor_temp_c": r2(outdoor)}, ns))
    for sensor in spec.sensors:
        if sensor.kind == SimulatedSensorKind.LEAK:
            value = 0.0
        else:  # the room warms with the IT heat the coolant does not take, and with the weather
            value = r2(21.0 + 0.5 * it_power * (1.0 - LIQUID_CAPTURE) + 0.15 * (outdoor - 10.0))
        add(Point("sensor", sensor.tags, {"value": value}, ns))

    total = it_power + pump_power + out.hp_power + fan_power + 0.1 + 0.02 * it_power
    fields = {"it_power_kw": r3(it_power), "total_power_kw": r3(total)}
    add(Point("facility", model.site_tags, fields, ns))
    return points


def _loop_point(tags, supply: float, ret: float, flow: float, ns: int) -> Point:
    """A loop's point: its temperatures (already rounded), their difference and its flow."""
    fields = {"supply_temp_c": supply, "return_temp_c": ret, "delta_t_k": r2(supply - ret), "flow_m3h": r3(flow)}
    return Point("loop", tags, fields, ns)
