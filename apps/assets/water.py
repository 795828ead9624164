"""Water carrying heat: the one formula every heat in heatops obeys.

q [kW] = mass flow [kg/s] x cp [kJ/(kg K)] x delta-T [K], with mass flow = flow [m3/h] x
998 / 3600. The simulator reports by it, the dashboard sizes tanks by it.
"""

from __future__ import annotations

CP_WATER = 4.18  # kJ/(kg K)
RHO_WATER = 998.0  # kg/m3
KG_S_PER_M3H = RHO_WATER / 3600.0
KW_PER_M3H_K = KG_S_PER_M3H * CP_WATER  # heat carried by 1 m3/h over 1 K, in kW


def heat_kw(flow_m3h: float, delta_t_k: float) -> float:
    """q = mass flow x cp x delta-T: the one formula every reported heat obeys."""
    return flow_m3h * KW_PER_M3H_K * delta_t_k


def flow_for_heat_m3h(heat: float, delta_t_k: float) -> float:
    """The volume flow that carries ``heat`` kW across ``delta_t_k`` K (0 if either is ~0)."""
    if heat <= 0.0 or delta_t_k <= 1e-6:
        return 0.0
    return heat / (KW_PER_M3H_K * delta_t_k)


def tank_heat_kwh(volume_l: float, delta_t_k: float) -> float:
    """The heat ``volume_l`` litres of water hold across ``delta_t_k`` K, in kWh."""
    return volume_l * RHO_WATER / 1000.0 * CP_WATER * delta_t_k / 3600.0
