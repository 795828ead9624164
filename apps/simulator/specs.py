"""What the model knows about a site: plain frozen data, built from Site and Asset rows
by selectors.site_spec(), so the model itself never touches the database."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from .choices import SimulatedSensorKind

Tags = Mapping[str, str]


@dataclass(frozen=True)
class NodeSpec:
    tags: Tags | None  # None: modelled but not reported (a rack without node assets)
    rated_kw: float
    max_inlet_c: float


@dataclass(frozen=True)
class RackSpec:
    tags: Tags
    rated_kw: float
    max_inlet_c: float
    nodes: tuple[NodeSpec, ...]
    pdu_tags: tuple[Tags, ...] = ()


@dataclass(frozen=True)
class PumpSpec:
    tags: Tags | None
    rated_kw: float
    min_flow_m3h: float
    max_flow_m3h: float


@dataclass(frozen=True)
class HeatExchangerSpec:
    tags: Tags | None
    rated_kw: float
    max_supply_c: float | None = None


@dataclass(frozen=True)
class HeatPumpSpec:
    tags: Tags | None
    rated_kw: float  # electrical input at full load
    max_supply_c: float


@dataclass(frozen=True)
class TankSpec:
    tags: Tags | None
    volume_l: float
    max_temp_c: float | None = None


@dataclass(frozen=True)
class DryCoolerSpec:
    tags: Tags | None
    rated_kw: float  # heat it rejects at full fan speed and 25 K over the outdoor air


@dataclass(frozen=True)
class SensorSpec:
    tags: Tags
    kind: SimulatedSensorKind


@dataclass(frozen=True)
class SiteSpec:
    """Everything the model needs to know about one site; built from Site and Asset rows.

    Plant a site lacks is still modelled (with sizes derived from its IT) but has ``tags``
    None and is not reported: the loop needs a pump whether or not anyone meters it.
    """

    slug: str
    kind: str
    timezone: str
    supply_min_c: float
    supply_max_c: float
    capacity_kw: float
    racks: tuple[RackSpec, ...]
    pump: PumpSpec
    heat_exchanger: HeatExchangerSpec
    tank: TankSpec
    dry_cooler: DryCoolerSpec
    heat_pump: HeatPumpSpec | None = None
    heat_meter_tags: Tags | None = None
    sensors: tuple[SensorSpec, ...] = ()

    @property
    def rated_it_kw(self) -> float:
        return sum(rack.rated_kw for rack in self.racks)
