"""Every threshold the dashboard's verdicts and panel marks judge by, in one place. The
plant's rated limits come from its assets (``apps.assets.limits``); these are the
dashboard's own judgements on top of them."""

from __future__ import annotations

# IT power: a share of the racks' rating above this is worth a look
RATED_SHARE_WARN = 0.95
IDLE_IT_KW = 1.0  # below this the IT load counts as idle

# heat recovered, as a share of the IT load: OK at or above the first, a problem below the second
HEAT_RECOVERED_OK = 0.6
HEAT_RECOVERED_BAD = 0.2
HEAT_PUMP_GAIN = 1.02  # above this, a heat pump is adding its own input

# the loop
NO_FLOW_M3H = 0.01  # at or below this, no water moves

# the consumer: what it gets of what it can expect
CONSUMER_OK = 0.85
CONSUMER_BAD = 0.5
CONSUMER_NO_DEMAND_KW = 0.5  # below this it is not asking for heat
CONSUMER_MOSTLY_SERVED = 0.9  # below this share the building's boiler visibly covers the rest
CONSUMER_PANEL_WARN = 0.5  # a consumer row is marked when it receives less than this share

# the tank
TANK_FULL_PCT = 95.0


def flow_lost(flow: float | None, min_flow: float | None) -> bool:
    """No water moving, or less than the pump's rated minimum."""
    return flow is not None and (flow <= NO_FLOW_M3H or bool(min_flow and flow < min_flow))


def above(value: float | None, limit: float | None) -> bool:
    """Over a rated limit (no limit: never)."""
    return value is not None and bool(limit) and value > limit
