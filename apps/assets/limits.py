"""The limits a site's plant runs against, from its assets' ratings: one rule for the
default alarm rules and the dashboard's verdicts."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .choices import AssetKind

# A loop whose supply-return difference is outside this band while water flows is not
# carrying heat as designed (valve, sensor or pump setting).
DELTA_T_BAND_K = (2.0, 15.0)


@dataclass(frozen=True)
class PlantLimits:
    """The tightest rating of each kind that bounds the whole plant (None: none rated)."""

    min_flow_m3h: float | None  # the pumps'
    max_supply_temp_c: float | None  # the heat exchangers' and buffer tanks'
    max_inlet_temp_c: float | None  # the racks' and nodes'


def plant_limits(assets: Iterable) -> PlantLimits:
    """The plant's limits from these assets (the caller chooses which: all, or the active)."""
    assets = list(assets)

    def lowest(kinds, attr):
        values = [getattr(a, attr) for a in assets if a.kind in kinds and getattr(a, attr) is not None]
        return min(values) if values else None

    return PlantLimits(
        min_flow_m3h=lowest({AssetKind.PUMP}, "min_flow_m3h"),
        max_supply_temp_c=lowest({AssetKind.HEAT_EXCHANGER, AssetKind.BUFFER_TANK}, "max_supply_temp_c"),
        max_inlet_temp_c=lowest({AssetKind.RACK, AssetKind.NODE}, "max_inlet_temp_c"),
    )
