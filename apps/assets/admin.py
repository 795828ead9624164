from django.contrib import admin
from django.db.models import Count
from django.forms.models import BaseInlineFormSet

from apps.audit.admin import AuditedAdmin
from apps.sites.models import Site

from .models import Asset


class ChildAssetFormSet(BaseInlineFormSet):
    """Children are created at their parent's site, so validation sees the right site."""

    def _construct_form(self, i, **kwargs):
        form = super()._construct_form(i, **kwargs)
        if self.instance is not None and self.instance.site_id:
            form.instance.site = self.instance.site
        return form


class ChildAssetInline(admin.TabularInline):
    model = Asset
    fk_name = "parent"
    fields = ("name", "kind", "slug", "rated_power_kw", "max_inlet_temp_c", "is_active")
    extra = 0
    show_change_link = True
    verbose_name = "Contained asset"
    verbose_name_plural = "Contained assets (for example the nodes in a rack)"
    formset = ChildAssetFormSet


@admin.register(Asset)
class AssetAdmin(AuditedAdmin):
    list_display = ("name", "site", "kind", "parent", "rated_power_kw", "series", "is_active")
    list_filter = ("site", "kind", "is_active")
    list_select_related = ("site", "parent")
    search_fields = ("name", "slug", "site__name", "manufacturer", "model_number", "serial_number")
    autocomplete_fields = ("parent",)
    inlines = [ChildAssetInline]
    readonly_fields = ("series",)
    fieldsets = (
        (None, {"fields": ("site", "kind", "name", "slug", "parent", "is_active")}),
        ("Make", {"fields": ("manufacturer", "model_number", "serial_number", "notes")}),
        (
            "Rated limits",
            {
                "fields": (
                    "rated_power_kw",
                    ("max_supply_temp_c", "max_return_temp_c", "max_inlet_temp_c"),
                    ("min_flow_m3h", "max_flow_m3h"),
                    "volume_l",
                )
            },
        ),
        ("InfluxDB series", {"fields": ("measurement", "series_tags", "series_field", "series")}),
    )

    @admin.display(description="series in InfluxDB")
    def series(self, obj: Asset) -> str:
        return obj.series_key if obj.pk else "—"


class SiteAssetInline(admin.TabularInline):
    model = Asset
    fields = ("name", "kind", "slug", "parent", "rated_power_kw", "is_active")
    extra = 0
    show_change_link = True
    autocomplete_fields = ("parent",)
    verbose_name_plural = "Assets at this site"


@admin.register(Site)
class SiteAdmin(AuditedAdmin):
    """A site with its contract terms and, inline, its assets."""

    list_display = ("name", "kind", "timezone", "supply_band", "asset_count", "is_active")
    list_filter = ("kind", "is_active", "displaced_source")
    search_fields = ("name", "slug", "address", "consumer_description")
    prepopulated_fields = {"slug": ("name",)}
    inlines = [SiteAssetInline]
    fieldsets = (
        (None, {"fields": ("name", "slug", "kind", "address", "timezone", "is_active")}),
        ("Heat consumer", {"fields": ("consumer_description",)}),
        (
            "Contract",
            {
                "fields": (
                    ("supply_temp_min_c", "supply_temp_max_c"),
                    "min_monthly_heat_kwh",
                    "contracted_capacity_kw",
                    "allowed_maintenance_hours_per_month",
                    ("capacity_charge_per_kw_month", "energy_charge_per_kwh", "currency"),
                )
            },
        ),
        (
            "Displaced heat source (avoided cost and carbon)",
            {
                "fields": (
                    "displaced_source",
                    "displaced_efficiency",
                    "emission_factor_kg_per_kwh",
                    "fuel_price_per_kwh",
                )
            },
        ),
    )

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_asset_count=Count("assets"))

    @admin.display(description="assets", ordering="_asset_count")
    def asset_count(self, obj: Site) -> int:
        return obj._asset_count

    @admin.display(description="supply band")
    def supply_band(self, obj: Site) -> str:
        return f"{obj.supply_temp_min_c:g}–{obj.supply_temp_max_c:g} °C"
