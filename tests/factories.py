"""Plain builders for test rows: valid by default, any field overridable."""

from __future__ import annotations

import itertools

from apps.assets.choices import AssetKind
from apps.assets.models import Asset
from apps.sites.choices import SiteKind
from apps.sites.models import Site

_seq = itertools.count(1)


def make_site(**overrides) -> Site:
    n = next(_seq)
    values = {"name": f"Site {n}", "slug": f"site-{n}", "kind": SiteKind.POOL}
    values.update(overrides)
    site = Site(**values)
    site.full_clean()
    site.save()
    return site


def make_asset(site: Site | None = None, **overrides) -> Asset:
    n = next(_seq)
    values = {"kind": AssetKind.RACK, "name": f"Asset {n}", "slug": f"asset-{n}", "rated_power_kw": 20.0}
    values.update(overrides)
    asset = Asset(site=site or make_site(), **values)
    asset.full_clean()
    asset.save()
    return asset
