import pytest
from django.core.exceptions import ValidationError

from apps.assets.choices import AssetKind
from apps.assets.models import Asset
from tests.factories import make_asset, make_site

pytestmark = pytest.mark.django_db


def errors_of(asset: Asset) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as info:
        asset.full_clean()
    return info.value.message_dict


def test_an_asset_is_bound_to_its_kinds_series_by_default():
    site = make_site(slug="pool")
    tank = make_asset(site, kind=AssetKind.BUFFER_TANK, slug="tank-1", volume_l=5000, rated_power_kw=None)
    assert tank.measurement == "tank"
    assert tank.series_tags == {"site": "pool", "asset": "tank-1"}
    assert tank.series_key == "tank,asset=tank-1,site=pool"


def test_a_node_sits_in_a_rack_of_the_same_site():
    site, other = make_site(), make_site()
    rack = make_asset(site, kind=AssetKind.RACK)
    pump = make_asset(site, kind=AssetKind.PUMP, max_flow_m3h=5)
    node = make_asset(site, kind=AssetKind.NODE, parent=rack)
    assert list(rack.children.all()) == [node]

    assert (
        "sits in a rack, not a pump"
        in errors_of(Asset(site=site, kind=AssetKind.NODE, name="n", slug="n", parent=pump))["parent"][0]
    )
    assert (
        "another site"
        in errors_of(Asset(site=other, kind=AssetKind.NODE, name="n", slug="n", parent=rack))["parent"][0]
    )


def test_assets_cannot_contain_each_other_in_a_loop():
    site = make_site()
    outer = make_asset(site, kind=AssetKind.SENSOR, rated_power_kw=None)
    inner = make_asset(site, kind=AssetKind.SENSOR, rated_power_kw=None, parent=outer)
    outer.parent = inner
    assert "loop" in errors_of(outer)["parent"][0]
    outer.parent = outer
    assert "inside itself" in errors_of(outer)["parent"][0]


@pytest.mark.parametrize(
    ("kind", "limits", "field", "message"),
    [
        (AssetKind.BUFFER_TANK, {}, "volume_l", "needs its volume"),
        (AssetKind.RACK, {"rated_power_kw": None}, "rated_power_kw", "needs its rated power"),
        (AssetKind.RACK, {"rated_power_kw": 0}, "rated_power_kw", "above zero"),
        (AssetKind.PUMP, {"min_flow_m3h": 5, "max_flow_m3h": 2}, "max_flow_m3h", "must be above min flow"),
        (
            AssetKind.RACK,
            {"max_inlet_temp_c": 400},
            "max_inlet_temp_c",
            "outside what water or air plant reaches",
        ),
    ],
)
def test_rated_limits_are_validated(kind, limits, field, message):
    values = {"rated_power_kw": 10.0} | limits
    asset = Asset(site=make_site(), kind=kind, name="x", slug="x", **values)
    assert message in " ".join(errors_of(asset)[field])


def test_asset_slugs_are_unique_within_a_site_only():
    site, other = make_site(), make_site()
    make_asset(site, slug="rack-a")
    make_asset(other, slug="rack-a")
    errors = errors_of(Asset(site=site, kind=AssetKind.RACK, name="dup", slug="rack-a", rated_power_kw=5))
    assert "already has an asset with that slug" in str(errors)


def test_a_custom_binding_must_fit_the_schema_and_the_site():
    site = make_site(slug="pool")
    sensor = Asset(
        site=site,
        kind=AssetKind.SENSOR,
        name="Supply temp",
        slug="t1",
        measurement="loop",
        series_tags={"site": "pool", "loop": "primary"},
        series_field="supply_temp_c",
    )
    sensor.full_clean()
    sensor.save()
    assert sensor.series_key == "loop,loop=primary,site=pool (supply_temp_c)"

    wrong = Asset(
        site=site,
        kind=AssetKind.SENSOR,
        name="w",
        slug="w",
        measurement="loop",
        series_tags={"site": "school", "asset": "x"},
        series_field="pressure",
    )
    errors = errors_of(wrong)
    assert any("needs the tag(s): loop" in e for e in errors["series_tags"])
    assert any("has no tag(s): asset" in e for e in errors["series_tags"])
    assert any("must be this asset's site, 'pool'" in e for e in errors["series_tags"])
    assert "has no field 'pressure'" in errors["series_field"][0]
