"""The shapes of time at a site: weather, the building's demand, school terms.

Pure functions of the local date and hour, so the same moment always gives the same
answer; the model adds its own seeded noise on top.
"""

from __future__ import annotations

import math
from datetime import date


def outdoor_temp_c(day_of_year: int, hour: float) -> float:
    """A temperate (UK-like) climate: coldest about 20 January, warmest afternoons about 16:00."""
    season = math.cos(2.0 * math.pi * (day_of_year - 20) / 365.25)
    summerness = (1.0 - season) / 2.0  # 0 in deep winter, 1 in high summer
    daily_amplitude = 2.5 + 2.5 * summerness
    return 10.0 - 6.5 * season - daily_amplitude * math.cos(2.0 * math.pi * (hour - 4.0) / 24.0)


# England's school holidays, roughly (month, day) inclusive ranges; good enough for a demo.
SCHOOL_HOLIDAYS = (
    ((1, 1), (1, 3)),
    ((2, 16), (2, 20)),
    ((3, 29), (4, 12)),
    ((5, 26), (5, 30)),
    ((7, 22), (9, 2)),
    ((10, 27), (10, 31)),
    ((12, 20), (12, 31)),
)


def is_school_holiday(day: date) -> bool:
    md = (day.month, day.day)
    return any(first <= md <= last for first, last in SCHOOL_HOLIDAYS)


def is_school_occupied(day: date, weekday: int, hour: float) -> bool:
    return weekday < 5 and not is_school_holiday(day) and 7.0 <= hour < 17.0


def consumer_demand(
    kind: str, capacity_kw: float, day: date, weekday: int, hour: float, outdoor: float
) -> tuple[float, float]:
    """What the building asks for (kW) and the temperature it wants (°C), before noise.

    A pool is steady and high (water and hall losses, showers), more in the cold and while
    open. A school wants heat only when occupied (weekdays 07:00-17:00, not in holidays),
    much more in winter; outside those hours only hot-water standby and frost protection.
    Other kinds get plausible shapes of the same sort.
    """
    cold = max(0.0, 16.0 - outdoor)
    if kind == "pool":
        open_now = 6.0 <= hour < 22.0
        demand = capacity_kw * (0.80 + 0.02 * max(0.0, 18.0 - outdoor)) * (1.0 if open_now else 0.8)
        return demand, 28.0
    if kind in ("school", "library", "retail"):
        if kind == "school":
            occupied = is_school_occupied(day, weekday, hour)
        else:
            occupied = weekday < 6 and 9.0 <= hour < 18.0
        if occupied:
            heating = 0.9 * min(cold / 18.0, 1.5)
            boost = 1.25 if hour < 8.0 else 1.0  # warming the building up after the night
            return capacity_kw * (0.35 + heating * boost), 20.0
        frost = 0.10 if outdoor < 3.0 else 0.0
        return capacity_kw * (0.06 + frost), 15.0
    if kind in ("care_home", "residential"):
        peak = 1.15 if (7.0 <= hour < 9.0 or 17.0 <= hour < 21.0) else 1.0
        return capacity_kw * (0.45 + 0.03 * cold) * peak, 21.0
    return capacity_kw * (0.70 + 0.02 * cold), 70.0  # district heating: steady, high
