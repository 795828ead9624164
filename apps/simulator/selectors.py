"""Reads: the sites to simulate (as pure SiteSpecs) and the faults injected into them."""

from __future__ import annotations

import logging
import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from apps.assets.choices import DEFAULT_MEASUREMENT, AssetKind
from apps.assets.models import Asset
from apps.assets.water import flow_for_heat_m3h
from apps.sites.models import Site
from apps.telemetry.influx.client import get_client

from .choices import SimulatedSensorKind
from .exceptions import SimulatorError
from .models import SimulatedFault, SimulatedSite
from .specs import (
    DryCoolerSpec,
    HeatExchangerSpec,
    HeatPumpSpec,
    NodeSpec,
    PumpSpec,
    RackSpec,
    SensorSpec,
    SiteSpec,
    TankSpec,
)

logger = logging.getLogger("apps.simulator")

DEFAULT_MAX_INLET_C = 45.0


# --- sites ----------------------------------------------------------------------------------


def simulated_sites(*, slugs: Sequence[str] | None = None) -> list[Site]:
    """The sites to simulate: all active ones, or the named ones (which must be active)."""
    if not slugs:
        return list(Site.objects.filter(is_active=True).order_by("slug"))
    found = {site.slug: site for site in Site.objects.filter(slug__in=slugs)}
    unknown = [slug for slug in slugs if slug not in found]
    if unknown:
        known = ", ".join(Site.objects.order_by("slug").values_list("slug", flat=True)) or "none yet"
        raise SimulatorError(f"no site {', '.join(map(repr, unknown))} (sites: {known})")
    inactive = [slug for slug in slugs if not found[slug].is_active]
    if inactive:
        raise SimulatorError(
            f"site {', '.join(map(repr, inactive))} is not active; activate it in the admin first"
        )
    return [found[slug] for slug in dict.fromkeys(slugs)]


def _own_tags(asset: Asset) -> dict[str, str] | None:
    """The asset's own series tags, or None if it is bound to a series it does not own
    (a sensor bound to one field of a loop, say): that series is written by its owner."""
    if asset.series_field or asset.measurement != DEFAULT_MEASUREMENT[AssetKind(asset.kind)]:
        return None
    return dict(asset.series_tags) or {"site": asset.site.slug, "asset": asset.slug}


def site_spec(*, site: Site) -> SiteSpec:
    """What the physics model needs to know about a site, from its Site and Asset rows.

    Plant a site lacks is sized from its IT and modelled without being reported; a site
    without an active rack cannot be simulated (there would be no heat).
    """
    assets = list(site.assets.filter(is_active=True).select_related("site").order_by("slug"))
    by_kind: dict[str, list[Asset]] = defaultdict(list)
    for asset in assets:
        by_kind[asset.kind].append(asset)
    children: dict[int, list[Asset]] = defaultdict(list)
    for asset in assets:
        if asset.parent_id:
            children[asset.parent_id].append(asset)

    racks = []
    for rack in by_kind[AssetKind.RACK]:
        rack_tags = _own_tags(rack)
        if rack_tags is None or not rack.rated_power_kw:
            continue
        max_inlet = rack.max_inlet_temp_c or DEFAULT_MAX_INLET_C
        node_assets = [a for a in children[rack.pk] if a.kind == AssetKind.NODE]
        default_node_kw = rack.rated_power_kw / max(len(node_assets), 1)
        nodes = tuple(
            NodeSpec(
                _own_tags(node), node.rated_power_kw or default_node_kw, node.max_inlet_temp_c or max_inlet
            )
            for node in node_assets
        ) or (NodeSpec(None, rack.rated_power_kw, max_inlet),)
        pdus = tuple(
            tags for a in children[rack.pk] if a.kind == AssetKind.PDU and (tags := _own_tags(a)) is not None
        )
        racks.append(RackSpec(rack_tags, rack.rated_power_kw, max_inlet, nodes, pdus))
    if not racks:
        raise SimulatorError(
            f"site '{site.slug}' has no active rack with a rated power, so no heat to simulate"
        )
    rated_it = sum(r.rated_kw for r in racks)

    def first(kind: str) -> Asset | None:
        return by_kind[kind][0] if by_kind[kind] else None

    pump = first(AssetKind.PUMP)
    if pump is not None and pump.max_flow_m3h:
        max_flow = pump.max_flow_m3h
        pump_spec = PumpSpec(
            _own_tags(pump),
            pump.rated_power_kw or 0.02 * rated_it,
            pump.min_flow_m3h or 0.15 * max_flow,
            max_flow,
        )
    else:
        max_flow = math.ceil(flow_for_heat_m3h(1.25 * rated_it, 6.0))
        pump_spec = PumpSpec(None, 0.02 * rated_it, 0.15 * max_flow, max_flow)

    hx = first(AssetKind.HEAT_EXCHANGER)
    hx_spec = HeatExchangerSpec(
        _own_tags(hx) if hx else None,
        (hx.rated_power_kw if hx else None) or 1.25 * rated_it,
        hx.max_supply_temp_c if hx else None,
    )
    hp = first(AssetKind.HEAT_PUMP)
    hp_spec = (
        HeatPumpSpec(
            _own_tags(hp),
            hp.rated_power_kw or 0.35 * rated_it,
            hp.max_supply_temp_c or site.supply_temp_max_c,
        )
        if hp
        else None
    )
    tank = first(AssetKind.BUFFER_TANK)
    tank_spec = TankSpec(
        _own_tags(tank) if tank else None,
        (tank.volume_l if tank else None) or 50.0 * rated_it,
        tank.max_supply_temp_c if tank else None,
    )
    dry = first(AssetKind.DRY_COOLER)
    dry_spec = DryCoolerSpec(
        _own_tags(dry) if dry else None, (dry.rated_power_kw if dry else None) or 1.1 * rated_it
    )
    meter = first(AssetKind.HEAT_METER)
    sensors = tuple(
        SensorSpec(
            tags,
            SimulatedSensorKind.LEAK
            if "leak" in f"{a.slug} {a.name}".lower()
            else SimulatedSensorKind.ROOM_TEMPERATURE,
        )
        for a in by_kind[AssetKind.SENSOR]
        if (tags := _own_tags(a)) is not None
    )
    return SiteSpec(
        slug=site.slug,
        kind=site.kind,
        timezone=site.timezone,
        supply_min_c=site.supply_temp_min_c,
        supply_max_c=site.supply_temp_max_c,
        capacity_kw=site.contracted_capacity_kw or 0.7 * rated_it,
        racks=tuple(racks),
        pump=pump_spec,
        heat_exchanger=hx_spec,
        tank=tank_spec,
        dry_cooler=dry_spec,
        heat_pump=hp_spec,
        heat_meter_tags=_own_tags(meter) if meter else None,
        sensors=sensors,
    )


def simulated_site_specs(*, slugs: Sequence[str] | None = None) -> list[SiteSpec]:
    """Specs for the sites to simulate. Named sites must be simulable; of all active
    sites, one that is not (no rack) is left out with a warning rather than stopping the rest."""
    specs = []
    for site in simulated_sites(slugs=slugs):
        try:
            specs.append(site_spec(site=site))
        except SimulatorError as exc:
            if slugs:
                raise
            logger.warning("leaving out a site: %s", exc)
    if not specs:
        raise SimulatorError("no active site to simulate; run manage.py seed_demo or add sites in the admin")
    return specs


# --- faults ---------------------------------------------------------------------------------


def faults_active(*, site_slugs: Sequence[str]) -> dict[str, frozenset[str]]:
    """The faults active now, per site slug: what the live loop reads every tick."""
    active: dict[str, set[str]] = defaultdict(set)
    rows = SimulatedFault.objects.filter(cleared_at__isnull=True, site__slug__in=site_slugs)
    for slug, kind in rows.values_list("site__slug", "kind"):
        active[slug].add(kind)
    return {slug: frozenset(kinds) for slug, kinds in active.items()}


@dataclass
class FaultSchedule:
    """Recorded faults as time intervals, for replaying history (a backfill)."""

    intervals: dict[str, list[tuple[str, float, float]]] = field(default_factory=dict)

    def at(self, slug: str, moment: float) -> frozenset[str]:
        """The faults active at ``moment`` (epoch seconds) at a site."""
        return frozenset(kind for kind, start, end in self.intervals.get(slug, ()) if start <= moment < end)


def fault_schedule(*, site_slugs: Sequence[str], start: datetime, end: datetime) -> FaultSchedule:
    """The faults recorded at these sites that overlap [start, end)."""
    schedule = FaultSchedule()
    rows = SimulatedFault.objects.filter(site__slug__in=site_slugs, started_at__lt=end).exclude(
        cleared_at__lte=start
    )
    for slug, kind, started, cleared in rows.values_list("site__slug", "kind", "started_at", "cleared_at"):
        schedule.intervals.setdefault(slug, []).append(
            (kind, started.timestamp(), cleared.timestamp() if cleared else math.inf)
        )
    return schedule


def fault_list(
    *, site: Site | None = None, recent: int = 10
) -> tuple[list[SimulatedFault], list[SimulatedFault]]:
    """Active faults, and the most recently cleared ones (for ``--list-faults``)."""
    rows = SimulatedFault.objects.select_related("site")
    if site is not None:
        rows = rows.filter(site=site)
    active = list(rows.filter(cleared_at__isnull=True).order_by("site__slug", "started_at"))
    cleared = list(rows.filter(cleared_at__isnull=False).order_by("-cleared_at")[:recent])
    return active, cleared


# --- telemetry ------------------------------------------------------------------------------


def telemetry_present(*, slugs: Sequence[str], lookback: str) -> set[str]:
    """The sites among ``slugs`` that already have facility or heat-meter points in InfluxDB."""
    readings = get_client().latest(measurements=["facility", "heat_meter"], lookback=lookback)
    return {r.tags.get("site", "") for r in readings} & set(slugs)


def site_is_simulated(site: Site) -> bool:
    return SimulatedSite.objects.filter(site=site).exists()
