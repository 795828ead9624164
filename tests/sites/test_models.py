from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from apps.sites.choices import HeatSource
from apps.sites.models import Site
from tests.factories import make_site

pytestmark = pytest.mark.django_db


def errors_of(site: Site) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as info:
        site.full_clean()
    return info.value.message_dict


def test_a_valid_site_saves_with_its_contract_terms():
    site = make_site(
        supply_temp_min_c=45,
        supply_temp_max_c=60,
        contracted_capacity_kw=50,
        capacity_charge_per_kw_month=Decimal("4.5"),
        energy_charge_per_kwh=Decimal("0.035"),
        currency="eur",
    )
    site.refresh_from_db()
    assert (site.supply_temp_min_c, site.supply_temp_max_c, site.currency) == (45, 60, "EUR")
    assert site.capacity_charge_per_kw_month == Decimal("4.5")


def test_the_supply_band_must_run_upwards():
    site = Site(name="Band", slug="band", kind="pool", supply_temp_min_c=60, supply_temp_max_c=45)
    assert "must be above the lowest" in errors_of(site)["supply_temp_max_c"][0]


@pytest.mark.parametrize(
    ("source", "efficiency", "ok"),
    [
        (HeatSource.GAS_BOILER, 0.9, True),
        (HeatSource.GAS_BOILER, 3.0, False),
        (HeatSource.GAS_BOILER, 0, False),
        (HeatSource.HEAT_PUMP, 3.2, True),
        (HeatSource.HEAT_PUMP, 9.0, False),
    ],
)
def test_the_displaced_source_efficiency_must_be_credible(source, efficiency, ok):
    site = Site(name="Eff", slug="eff", kind="pool", displaced_source=source, displaced_efficiency=efficiency)
    if ok:
        site.full_clean()
    else:
        assert "not credible" in errors_of(site)["displaced_efficiency"][0]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("capacity_charge_per_kw_month", Decimal("-1")),
        ("energy_charge_per_kwh", Decimal("-0.01")),
        ("fuel_price_per_kwh", Decimal("-0.01")),
        ("min_monthly_heat_kwh", -5),
        ("contracted_capacity_kw", -1),
        ("emission_factor_kg_per_kwh", 5),
    ],
)
def test_contract_figures_cannot_be_negative_or_absurd(field, value):
    site = Site(name="Neg", slug="neg", kind="pool", **{field: value})
    assert field in errors_of(site)


def test_timezone_and_currency_are_checked():
    errors = errors_of(Site(name="Tz", slug="tz", kind="pool", timezone="Mars/Olympus", currency="£££"))
    assert "not a known time zone" in errors["timezone"][0]
    assert "three-letter" in errors["currency"][0]
