"""The two demo sites, a public pool and a primary school, with their plant and IT.

``seed_demo`` writes them; running it again updates them in place and adds nothing twice.
The simulator (manage.py simulate) reads the same rows, so what the admin shows is what
the telemetry describes.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction

from apps.assets.choices import AssetKind
from apps.assets.models import Asset
from apps.sites.choices import HeatSource, SiteKind
from apps.sites.models import Site

SITES = [
    {
        "slug": "pool",
        "name": "Northgate Leisure Pool",
        "kind": SiteKind.POOL,
        "address": "Northgate Leisure Centre, Mill Lane, Leeds LS6 2AB",
        "timezone": "Europe/London",
        "consumer_description": "The 25 m pool's water (held at 28 °C) through the plant-room plate "
        "exchanger, and preheat for the showers' hot water.",
        "supply_temp_min_c": 40.0,
        "supply_temp_max_c": 55.0,
        "min_monthly_heat_kwh": 30000,
        "allowed_maintenance_hours_per_month": 8,
        "contracted_capacity_kw": 60,
        "capacity_charge_per_kw_month": Decimal("4.50"),
        "energy_charge_per_kwh": Decimal("0.0350"),
        "currency": "GBP",
        "displaced_source": HeatSource.GAS_BOILER,
        "displaced_efficiency": 0.88,
        "emission_factor_kg_per_kwh": 0.183,
        "fuel_price_per_kwh": Decimal("0.0650"),
        "racks": [("rack-a", "Rack A", 40.0), ("rack-b", "Rack B", 40.0)],
        "nodes_per_rack": 4,
        "plant": [
            (
                "pump-primary",
                "Primary loop pump",
                AssetKind.PUMP,
                {"rated_power_kw": 1.1, "min_flow_m3h": 1.5, "max_flow_m3h": 12.0},
            ),
            (
                "hx-1",
                "Plate heat exchanger",
                AssetKind.HEAT_EXCHANGER,
                {"rated_power_kw": 100.0, "max_supply_temp_c": 60.0},
            ),
            ("tank-1", "Buffer tank", AssetKind.BUFFER_TANK, {"volume_l": 6000.0, "max_supply_temp_c": 60.0}),
            ("meter-1", "Heat meter, pool delivery", AssetKind.HEAT_METER, {}),
            ("drycooler-1", "Roof dry cooler", AssetKind.DRY_COOLER, {"rated_power_kw": 90.0}),
            ("leak-1", "Leak detector under racks", AssetKind.SENSOR, {}),
        ],
    },
    {
        "slug": "school",
        "name": "St Aidan's Primary School",
        "kind": SiteKind.SCHOOL,
        "address": "St Aidan's Primary School, Church Road, Sheffield S10 1QP",
        "timezone": "Europe/London",
        "consumer_description": "Space-heating preheat and the kitchen's hot water, through a heat pump "
        "lifting the recovered heat to 65 °C.",
        "supply_temp_min_c": 55.0,
        "supply_temp_max_c": 70.0,
        "min_monthly_heat_kwh": 8000,
        "allowed_maintenance_hours_per_month": 4,
        "contracted_capacity_kw": 25,
        "capacity_charge_per_kw_month": Decimal("5.00"),
        "energy_charge_per_kwh": Decimal("0.0400"),
        "currency": "GBP",
        "displaced_source": HeatSource.GAS_BOILER,
        "displaced_efficiency": 0.85,
        "emission_factor_kg_per_kwh": 0.183,
        "fuel_price_per_kwh": Decimal("0.0650"),
        "racks": [("rack-a", "Rack A", 25.0)],
        "nodes_per_rack": 4,
        "plant": [
            (
                "pump-primary",
                "Primary loop pump",
                AssetKind.PUMP,
                {"rated_power_kw": 0.55, "min_flow_m3h": 0.8, "max_flow_m3h": 6.0},
            ),
            (
                "hx-1",
                "Plate heat exchanger",
                AssetKind.HEAT_EXCHANGER,
                {"rated_power_kw": 40.0, "max_supply_temp_c": 50.0},
            ),
            (
                "heatpump-1",
                "Water-to-water heat pump",
                AssetKind.HEAT_PUMP,
                {"rated_power_kw": 8.0, "max_supply_temp_c": 70.0},
            ),
            ("tank-1", "Buffer tank", AssetKind.BUFFER_TANK, {"volume_l": 3000.0, "max_supply_temp_c": 70.0}),
            ("meter-1", "Heat meter, school delivery", AssetKind.HEAT_METER, {}),
            ("drycooler-1", "Yard dry cooler", AssetKind.DRY_COOLER, {"rated_power_kw": 35.0}),
        ],
    },
]

RACK_LIMITS = {"max_inlet_temp_c": 45.0}  # warm-water direct liquid cooling


def _upsert_asset(site: Site, slug: str, **values) -> Asset:
    asset = Asset.objects.filter(site=site, slug=slug).first() or Asset(site=site, slug=slug)
    for key, value in values.items():
        setattr(asset, key, value)
    asset.full_clean()
    asset.save()
    return asset


@transaction.atomic
def seed_demo_sites() -> list[Site]:
    """Create or update the demo sites and their assets; return the sites."""
    sites = []
    for spec in SITES:
        spec = dict(spec)
        racks, nodes_per_rack, plant = spec.pop("racks"), spec.pop("nodes_per_rack"), spec.pop("plant")
        site = Site.objects.filter(slug=spec["slug"]).first() or Site(slug=spec["slug"])
        for key, value in spec.items():
            setattr(site, key, value)
        site.full_clean()
        site.save()
        for rack_slug, rack_name, rack_kw in racks:
            rack = _upsert_asset(
                site, rack_slug, kind=AssetKind.RACK, name=rack_name, rated_power_kw=rack_kw, **RACK_LIMITS
            )
            _upsert_asset(
                site,
                f"pdu-{rack_slug[-1]}",
                kind=AssetKind.PDU,
                name=f"PDU {rack_name}",
                parent=rack,
                rated_power_kw=rack_kw,
            )
            for n in range(1, nodes_per_rack + 1):
                _upsert_asset(
                    site,
                    f"node-{rack_slug[-1]}{n}",
                    kind=AssetKind.NODE,
                    name=f"Node {rack_slug[-1].upper()}{n}",
                    parent=rack,
                    rated_power_kw=round(rack_kw / nodes_per_rack, 1),
                    **RACK_LIMITS,
                )
        for slug, name, kind, limits in plant:
            _upsert_asset(site, slug, kind=kind, name=name, **limits)
        sites.append(site)
    return sites
