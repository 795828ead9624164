"""What the dashboard needs of a site's configuration, loaded once and reused per tick."""

from __future__ import annotations

from dataclasses import dataclass, field

from apps.assets.choices import AssetKind
from apps.assets.limits import plant_limits

from .panels import AssetInfo


@dataclass(frozen=True)
class SiteConfig:
    """What the status needs from the site's configuration (loaded once, reused per tick)."""

    pk: int
    slug: str
    name: str
    kind_label: str
    consumer_description: str
    supply_min_c: float
    supply_max_c: float
    rated_it_kw: float
    pump_min_flow: float | None
    max_supply_c: float | None
    max_inlet_c: float | None
    tank_volume_l: float
    dump_kw: float
    racks: tuple[str, ...] = ()  # slugs, in the order the panels list them
    pdus: tuple[str, ...] = ()
    nodes: tuple[str, ...] = ()
    assets: dict[str, AssetInfo] = field(default_factory=dict)  # by slug

    @classmethod
    def from_site(cls, site) -> SiteConfig:
        assets = [a for a in site.assets.all() if a.is_active]

        def of(kind):
            return [a for a in assets if a.kind == kind]

        limits = plant_limits(assets)

        return cls(
            pk=site.pk,
            slug=site.slug,
            name=site.name,
            kind_label=site.get_kind_display(),
            consumer_description=site.consumer_description,
            supply_min_c=site.supply_temp_min_c,
            supply_max_c=site.supply_temp_max_c,
            rated_it_kw=sum(a.rated_power_kw or 0 for a in of(AssetKind.RACK)),
            pump_min_flow=limits.min_flow_m3h,
            max_supply_c=limits.max_supply_temp_c,
            max_inlet_c=limits.max_inlet_temp_c,
            tank_volume_l=sum(a.volume_l or 0 for a in of(AssetKind.BUFFER_TANK)),
            dump_kw=sum(a.rated_power_kw or 0 for a in of(AssetKind.DRY_COOLER)),
            racks=tuple(a.slug for a in of(AssetKind.RACK)),
            pdus=tuple(a.slug for a in of(AssetKind.PDU)),
            nodes=tuple(a.slug for a in sorted(of(AssetKind.NODE), key=lambda a: a.slug)),
            assets={
                a.slug: AssetInfo(
                    pk=a.pk,
                    slug=a.slug,
                    name=a.name,
                    kind_label=a.get_kind_display(),
                    rated_power_kw=a.rated_power_kw,
                    max_supply_temp_c=a.max_supply_temp_c,
                    max_inlet_temp_c=a.max_inlet_temp_c,
                    min_flow_m3h=a.min_flow_m3h,
                )
                for a in assets
            },
        )
