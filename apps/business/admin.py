from django.contrib import admin

from .models import BusinessCase, CapexItem, Scenario


class ReadOnlyInline(admin.TabularInline):
    extra = 0

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class CapexInline(ReadOnlyInline):
    model = CapexItem


class ScenarioInline(ReadOnlyInline):
    model = Scenario


@admin.register(BusinessCase)
class BusinessCaseAdmin(admin.ModelAdmin):
    """Read here: the plan is changed on the site's business-case page, where each change is
    audited with the plan before and after and the reason."""

    list_display = ("site", "start", "avoided_fuel_in_cash_flow", "updated_by", "updated_at")
    list_filter = ("site",)
    inlines = [CapexInline, ScenarioInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
