from django.contrib import admin
from django.db.models import Count

from apps.assets.models import Asset
from apps.audit.admin import AuditedAdmin

from .models import Site


class SiteAssetInline(admin.TabularInline):
    model = Asset
    fields = ("name", "kind", "slug", "parent", "rated_power_kw", "is_active")
    extra = 0
    show_change_link = True
    autocomplete_fields = ("parent",)
    verbose_name_plural = "Assets at this site"


@admin.register(Site)
class SiteAdmin(AuditedAdmin):
    list_display = ("name", "kind", "timezone", "supply_band", "asset_count", "is_active")
    list_filter = ("kind", "is_active", "displaced_source")
    search_fields = ("name", "slug", "address", "consumer_description")
    prepopulated_fields = {"slug": ("name",)}
    inlines = [SiteAssetInline]
    actions = ["create_default_alarm_rules"]
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

    @admin.action(description="Create the default alarm rules (from kind and rated limits)")
    def create_default_alarm_rules(self, request, queryset):
        from apps.alarms.defaults import alarm_rules_create_defaults

        created = sum(len(alarm_rules_create_defaults(site=site)) for site in queryset)
        self.message_user(request, f"Created {created} alarm rule(s); rules that already existed were kept.")

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_asset_count=Count("assets"))

    @admin.display(description="assets", ordering="_asset_count")
    def asset_count(self, obj: Site) -> int:
        return obj._asset_count

    @admin.display(description="supply band")
    def supply_band(self, obj: Site) -> str:
        return f"{obj.supply_temp_min_c:g}–{obj.supply_temp_max_c:g} °C"
