"""The small exact helpers the model integrates with (first-order lags, a stratified
tank, a heat pump's COP), and the rounding that stands for an instrument's resolution.
The heat formula itself is ``apps.assets.water``.
"""

from __future__ import annotations

import math


def relax(value: float, target: float, dt: float, tau: float) -> float:
    """Exact first-order lag: where ``value`` is after ``dt`` seconds chasing ``target``."""
    return target + (value - target) * math.exp(-dt / tau)


def clamp(value: float, low: float, high: float) -> float:
    return low if value < low else high if value > high else value


def smoothstep(x: float) -> float:
    x = clamp(x, 0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)


def tank_temperatures(soc: float, t_cold: float, t_hot: float) -> tuple[float, float]:
    """Top and bottom of a stratified tank at state of charge ``soc`` (0-1).

    A thermocline: the top turns hot as soon as there is some charge, the bottom stays at
    the consumer's return temperature until the tank is nearly full (then charging can
    only continue as fast as the consumer draws).
    """
    span = t_hot - t_cold
    top = t_cold + span * smoothstep(soc / 0.15)
    bottom = t_cold + (span - 3.0) * smoothstep((soc - 0.80) / 0.20)
    return top, bottom


def heat_pump_cop(t_out: float, t_source_out: float) -> float:
    """A real heat pump reaches about 40 % of the Carnot COP across its lift (plus approaches)."""
    lift = max(t_out - t_source_out, 0.0) + 12.0
    return clamp(0.40 * (t_out + 273.15) / lift, 2.0, 5.5)


# Rounding to an instrument's resolution; round(x, n) is several times slower than this and
# the backfill rounds some hundred million numbers.
_floor = math.floor


def r1(x: float) -> float:
    return _floor(x * 10.0 + 0.5) / 10.0


def r2(x: float) -> float:
    return _floor(x * 100.0 + 0.5) / 100.0


def r3(x: float) -> float:
    return _floor(x * 1000.0 + 0.5) / 1000.0


def r4(x: float) -> float:
    return _floor(x * 10000.0 + 0.5) / 10000.0
