"""The admin is where facilities staff configure sites and assets: every page must load,
search and filter must work, and bad input must come back with the reason."""

import pytest
from django.urls import reverse

from apps.assets.choices import AssetKind
from apps.assets.models import Asset
from apps.demo.sites import seed_demo_sites
from apps.sites.models import Site

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo():
    return {s.slug: s for s in seed_demo_sites()}


@pytest.mark.parametrize("model", [Site, Asset])
def test_every_admin_page_loads(admin_client, demo, model):
    meta = model._meta
    base = f"admin:{meta.app_label}_{meta.model_name}"
    obj = model.objects.first()
    for url in (
        reverse(f"{base}_changelist"),
        reverse(f"{base}_add"),
        reverse(f"{base}_change", args=[obj.pk]),
        reverse(f"{base}_history", args=[obj.pk]),
        reverse(f"{base}_delete", args=[obj.pk]),
    ):
        assert admin_client.get(url).status_code == 200, url


def test_site_list_searches_and_filters(admin_client, demo):
    url = reverse("admin:sites_site_changelist")
    page = admin_client.get(url, {"q": "Northgate"}).content.decode()
    assert "Northgate Leisure Pool" in page and "St Aidan" not in page
    page = admin_client.get(url, {"kind__exact": "school"}).content.decode()
    assert "St Aidan" in page and "Northgate Leisure Pool" not in page


def test_asset_list_filters_by_site_and_kind_and_shows_the_series(admin_client, demo):
    url = reverse("admin:assets_asset_changelist")
    page = admin_client.get(
        url, {"site__id__exact": demo["school"].pk, "kind__exact": "buffer_tank"}
    ).content.decode()
    assert "tank,asset=tank-1,site=school" in page
    assert page.count('class="field-name"') == 1


def test_a_rack_page_shows_its_nodes_inline_and_adds_one_at_the_rack_site(admin_client, demo):
    rack = Asset.objects.get(site=demo["pool"], slug="rack-a")
    url = reverse("admin:assets_asset_change", args=[rack.pk])
    page = admin_client.get(url).content.decode()
    assert "Node A1" in page and "Node A4" in page

    form = {
        "site": rack.site_id,
        "kind": rack.kind,
        "name": rack.name,
        "slug": rack.slug,
        "is_active": "on",
        "rated_power_kw": rack.rated_power_kw,
        "max_inlet_temp_c": rack.max_inlet_temp_c,
        "measurement": rack.measurement,
        "series_tags": '{"site": "pool", "asset": "rack-a"}',
        "reason": "fifth node installed",
    }
    children = list(rack.children.order_by("pk"))
    prefix = "children"
    form |= {f"{prefix}-TOTAL_FORMS": len(children) + 1, f"{prefix}-INITIAL_FORMS": len(children)}
    for i, child in enumerate(children):
        form |= {
            f"{prefix}-{i}-id": child.pk,
            f"{prefix}-{i}-parent": rack.pk,
            f"{prefix}-{i}-name": child.name,
            f"{prefix}-{i}-kind": child.kind,
            f"{prefix}-{i}-slug": child.slug,
            f"{prefix}-{i}-rated_power_kw": child.rated_power_kw or "",
            f"{prefix}-{i}-max_inlet_temp_c": child.max_inlet_temp_c or "",
            f"{prefix}-{i}-is_active": "on",
        }
    n = len(children)
    form |= {
        f"{prefix}-{n}-parent": rack.pk,
        f"{prefix}-{n}-name": "Node A5",
        f"{prefix}-{n}-kind": AssetKind.NODE,
        f"{prefix}-{n}-slug": "node-a5",
        f"{prefix}-{n}-rated_power_kw": "8",
        f"{prefix}-{n}-is_active": "on",
    }
    response = admin_client.post(url, form)
    assert response.status_code == 302, response.content.decode()[:3000]
    node = Asset.objects.get(slug="node-a5")
    assert (node.site, node.parent, node.series_tags) == (
        demo["pool"],
        rack,
        {"site": "pool", "asset": "node-a5"},
    )


def test_bad_input_in_the_admin_says_what_is_wrong_and_keeps_the_rest(admin_client, demo):
    url = reverse("admin:sites_site_add")
    form = {
        "name": "Riverside Library",
        "slug": "library",
        "kind": "library",
        "timezone": "Europe/London",
        "supply_temp_min_c": "60",
        "supply_temp_max_c": "50",
        "min_monthly_heat_kwh": "0",
        "contracted_capacity_kw": "10",
        "capacity_charge_per_kw_month": "1",
        "energy_charge_per_kwh": "0.03",
        "currency": "GBP",
        "displaced_source": "gas_boiler",
        "displaced_efficiency": "0.9",
        "emission_factor_kg_per_kwh": "0.18",
        "fuel_price_per_kwh": "0.06",
        "reason": "new library site",
        "assets-TOTAL_FORMS": "0",
        "assets-INITIAL_FORMS": "0",
    }
    response = admin_client.post(url, form)
    assert response.status_code == 200
    page = response.content.decode()
    assert "must be above the lowest" in page
    assert 'value="Riverside Library"' in page  # what was valid is still in the form
    assert not Site.objects.filter(slug="library").exists()


def test_anonymous_users_see_nothing_of_the_admin(client, demo):
    for url in (reverse("admin:sites_site_changelist"), reverse("admin:assets_asset_changelist")):
        response = client.get(url)
        assert response.status_code == 302 and "/login/" in response["Location"]
        assert "Northgate" not in response.content.decode()
