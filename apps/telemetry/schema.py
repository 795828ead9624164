"""The telemetry schema: every measurement heatops reads or accepts, its tags and fields,
with units. docs/telemetry.md documents the same table (a test keeps them in step).

Every measurement carries the tag ``site`` (the site's slug). Asset-level measurements
also carry ``asset`` (the asset's slug within its site); the primary and secondary loops
carry ``loop``.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Field:
    name: str
    unit: str
    type: str  # "float" | "bool"
    description: str


@dataclass(frozen=True)
class Measurement:
    name: str
    tags: tuple[str, ...]
    description: str
    fields: dict[str, Field] = field(default_factory=dict)


def _m(name: str, tags: tuple[str, ...], description: str, *fields: Field) -> Measurement:
    return Measurement(name, tags, description, {f.name: f for f in fields})


def _f(name: str, unit: str, description: str, type: str = "float") -> Field:
    return Field(name, unit, type, description)


SITE = ("site",)
ASSET = ("site", "asset")

MEASUREMENTS: dict[str, Measurement] = {
    m.name: m
    for m in (
        _m(
            "facility",
            SITE,
            "Site-wide electrical power",
            _f("it_power_kw", "kW", "IT electrical load, all racks"),
            _f("total_power_kw", "kW", "Total facility power: IT, pumps, heat pump, dry cooler, controls"),
        ),
        _m(
            "rack",
            ASSET,
            "One rack",
            _f("power_kw", "kW", "Rack electrical power"),
            _f("inlet_temp_c", "°C", "Server inlet air or coolant temperature"),
        ),
        _m(
            "node",
            ASSET,
            "One compute node",
            _f("power_kw", "kW", "Node electrical power"),
            _f("utilisation_pct", "%", "CPU/GPU utilisation"),
            _f("inlet_temp_c", "°C", "Node inlet temperature"),
            _f("throttled", "", "True while the node's workload is throttled", "bool"),
        ),
        _m(
            "pdu",
            ASSET,
            "A PDU or electrical submeter",
            _f("power_kw", "kW", "Power through the PDU"),
            _f("energy_kwh", "kWh", "Cumulative energy register"),
        ),
        _m(
            "loop",
            ("site", "loop"),
            "A water loop; tag loop = primary (IT side) or secondary (building side)",
            _f("supply_temp_c", "°C", "Supply (flow) temperature"),
            _f("return_temp_c", "°C", "Return temperature"),
            _f("delta_t_k", "K", "Supply minus return"),
            _f("flow_m3h", "m³/h", "Volume flow"),
        ),
        _m(
            "pump",
            ASSET,
            "A circulation pump",
            _f("speed_pct", "%", "Pump speed"),
            _f("power_kw", "kW", "Pump electrical power"),
            _f("running", "", "True while the pump runs", "bool"),
        ),
        _m(
            "heat_exchanger",
            ASSET,
            "A plate heat exchanger between the loops",
            _f("heat_kw", "kW", "Heat passed from primary to secondary"),
            _f("approach_k", "K", "Primary inlet minus secondary outlet temperature"),
        ),
        _m(
            "heat_pump",
            ASSET,
            "A heat pump lifting the recovered heat",
            _f("power_kw", "kW", "Electrical input"),
            _f("heat_kw", "kW", "Heat output"),
            _f("cop", "", "Coefficient of performance, heat out / electricity in"),
            _f("outlet_temp_c", "°C", "Condenser outlet temperature"),
        ),
        _m(
            "tank",
            ASSET,
            "A buffer tank",
            _f("top_temp_c", "°C", "Temperature at the top"),
            _f("bottom_temp_c", "°C", "Temperature at the bottom"),
            _f("soc_pct", "%", "State of charge: stored heat as a share of capacity"),
        ),
        _m(
            "heat_meter",
            ASSET,
            "An EN 1434 heat meter on the delivery to the consumer",
            _f("power_kw", "kW", "Instantaneous heat flow"),
            _f("energy_kwh", "kWh", "Cumulative energy register"),
            _f("flow_m3h", "m³/h", "Volume flow"),
            _f("supply_temp_c", "°C", "Supply temperature"),
            _f("return_temp_c", "°C", "Return temperature"),
        ),
        _m(
            "dry_cooler",
            ASSET,
            "The dump path: a dry cooler rejecting heat the consumer cannot take",
            _f("heat_kw", "kW", "Heat rejected to air"),
            _f("power_kw", "kW", "Fan electrical power"),
            _f("active", "", "True while the dump path is open", "bool"),
        ),
        _m(
            "consumer",
            SITE,
            "The building's heat consumer",
            _f("demand_kw", "kW", "Heat the consumer asks for"),
            _f("delivered_kw", "kW", "Heat delivered to the consumer"),
            _f("target_temp_c", "°C", "Temperature the consumer wants (pool water, hot water, ...)"),
            _f("temp_c", "°C", "Temperature the consumer has"),
            _f("online", "", "True while the consumer accepts heat", "bool"),
        ),
        _m(
            "weather",
            SITE,
            "Conditions at the site",
            _f("outdoor_temp_c", "°C", "Outdoor air temperature"),
        ),
        _m(
            "sensor",
            ASSET,
            "A stand-alone sensor (room temperature, leak detector, ...)",
            _f("value", "", "The reading, in the unit stated on the asset"),
        ),
    )
}


class SchemaError(ValueError):
    """A point that does not fit the schema."""


def validate(measurement: str, tags: dict[str, str], fields: dict[str, object]) -> None:
    """Raise SchemaError saying what is wrong if the point does not fit the schema."""
    spec = MEASUREMENTS.get(measurement)
    if spec is None:
        raise SchemaError(f"unknown measurement {measurement!r}")
    missing = [t for t in spec.tags if not tags.get(t)]
    if missing:
        raise SchemaError(f"{measurement}: missing tag(s) {', '.join(missing)}")
    extra_tags = sorted(set(tags) - set(spec.tags))
    if extra_tags:
        raise SchemaError(f"{measurement}: unknown tag(s) {', '.join(extra_tags)}")
    if not fields:
        raise SchemaError(f"{measurement}: no fields")
    for name, value in fields.items():
        fspec = spec.fields.get(name)
        if fspec is None:
            raise SchemaError(f"{measurement}: unknown field {name!r}")
        if fspec.type == "bool" and not isinstance(value, bool):
            raise SchemaError(f"{measurement}.{name} must be a boolean")
        if fspec.type == "float" and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise SchemaError(f"{measurement}.{name} must be a number")
