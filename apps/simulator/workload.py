"""The IT load: each node's utilisation (a daily pattern, noise and batch bursts) and the
power it draws, throttling and then shutting down as its coolant overheats."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .numerics import clamp
from .specs import NodeSpec, RackSpec

if TYPE_CHECKING:
    from .physics import SiteModel

IDLE_SHARE = 0.22  # a node's power at 0 % utilisation, as a share of rated
THROTTLED_SHARE = 0.55  # a throttled node's power cap, as a share of rated
TRIPPED_SHARE = 0.02  # a node shut down by its own protection: BMC and fans only
BURST_EVERY_S = 6 * 3600.0


@dataclass
class Node:
    spec: NodeSpec
    bias: float
    inlet_offset: float
    jitter: float = 0.0
    utilisation: float = 0.0
    power: float = 0.0
    throttled: bool = False
    tripped: bool = False
    removed: bool = False  # taken out of its rack: no power, no readings


@dataclass
class Rack:
    spec: RackSpec
    inlet_offset: float
    nodes: list[Node] = field(default_factory=list)
    power: float = 0.0
    pdu_energy: list[float] = field(default_factory=list)


def advance_workload(model: SiteModel, h: float, hour: float, weekday: int) -> None:
    """Daily pattern plus noise plus occasional batch bursts on some of the nodes."""
    rng = model.rng
    a = math.exp(-h / 1200.0)
    model.load_noise = a * model.load_noise + 0.06 * math.sqrt(1 - a * a) * rng.gauss(0.0, 1.0)
    model.clock_s += h
    if model.clock_s >= model.burst_until_s:
        model.burst_level = 0.0
        if rng.random() < 1.0 - math.exp(-h / BURST_EVERY_S):
            model.burst_until_s = model.clock_s + rng.uniform(20 * 60.0, 120 * 60.0)
            model.burst_level = rng.uniform(0.2, 0.4)
            count = len(model.nodes)
            model.burst_nodes = frozenset(rng.sample(range(count), k=max(1, rng.randint(count // 2, count))))
    base = 0.52 + 0.12 * math.sin(2.0 * math.pi * (hour - 8.0) / 24.0) - (0.06 if weekday >= 5 else 0.0)
    base += model.load_noise
    aj = math.exp(-h / 180.0)
    sj = 0.04 * math.sqrt(1 - aj * aj)
    burst, burst_nodes = model.burst_level, model.burst_nodes
    for i, node in enumerate(model.nodes):
        node.jitter = aj * node.jitter + sj * rng.gauss(0.0, 1.0)
        u = base + node.bias + node.jitter + (burst if i in burst_nodes else 0.0)
        node.utilisation = clamp(u, 0.03, 1.0)


def node_power(model: SiteModel) -> float:
    """Each node's power; a node throttles, then shuts down, as its coolant overheats."""
    it_power = 0.0
    t_rack = model.t_rack
    for rack in model.racks:
        rack_inlet = model.t_inlet + rack.inlet_offset
        total = 0.015 * rack.spec.rated_kw  # switches and management
        for node in rack.nodes:
            if node.removed:
                node.power = 0.0
                continue
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
