from django.db import models


class AssetKind(models.TextChoices):
    RACK = "rack", "Rack"
    NODE = "node", "Compute node"
    PDU = "pdu", "PDU / submeter"
    PUMP = "pump", "Pump"
    HEAT_EXCHANGER = "heat_exchanger", "Heat exchanger"
    HEAT_PUMP = "heat_pump", "Heat pump"
    BUFFER_TANK = "buffer_tank", "Buffer tank"
    HEAT_METER = "heat_meter", "Heat meter"
    DRY_COOLER = "dry_cooler", "Dry cooler"
    SENSOR = "sensor", "Sensor"


# The measurement an asset of each kind reports to, unless bound otherwise.
DEFAULT_MEASUREMENT = {
    AssetKind.RACK: "rack",
    AssetKind.NODE: "node",
    AssetKind.PDU: "pdu",
    AssetKind.PUMP: "pump",
    AssetKind.HEAT_EXCHANGER: "heat_exchanger",
    AssetKind.HEAT_PUMP: "heat_pump",
    AssetKind.BUFFER_TANK: "tank",
    AssetKind.HEAT_METER: "heat_meter",
    AssetKind.DRY_COOLER: "dry_cooler",
    AssetKind.SENSOR: "sensor",
}

# Which kinds may contain which: a node or a PDU sits in a rack.
ALLOWED_PARENTS = {
    AssetKind.NODE: {AssetKind.RACK},
    AssetKind.PDU: {AssetKind.RACK},
}

# Rated limits each kind must state.
REQUIRED_LIMITS = {
    AssetKind.RACK: ("rated_power_kw",),
    AssetKind.BUFFER_TANK: ("volume_l",),
    AssetKind.HEAT_PUMP: ("rated_power_kw",),
    AssetKind.PUMP: ("max_flow_m3h",),
}
