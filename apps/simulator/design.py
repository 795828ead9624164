"""The plant's design point: set points and sizes derived once from a site's spec."""

from __future__ import annotations

from dataclasses import dataclass

from apps.assets.water import CP_WATER, RHO_WATER, flow_for_heat_m3h

from .specs import SiteSpec

T_ROOM_C = 24.0  # plant room
PRIMARY_DELTA_T_K = 8.0  # the pump's design delta-T
HX_APPROACH_K = 2.0
SOURCE_DELTA_T_K = 6.0  # heat pump evaporator circuit


@dataclass
class Design:
    """Set points and sizes derived once from the spec (see design_for)."""

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
