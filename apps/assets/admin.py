from django.contrib import admin
from django.forms.models import BaseInlineFormSet

from apps.audit.admin import AuditedAdmin

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
