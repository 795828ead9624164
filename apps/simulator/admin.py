from django.contrib import admin

from .models import SimulatedFault, SimulatedSite


@admin.register(SimulatedFault)
class SimulatedFaultAdmin(admin.ModelAdmin):
    list_display = ("site", "kind", "started_at", "cleared_at")
    list_filter = ("kind", "site")
    date_hierarchy = "started_at"


@admin.register(SimulatedSite)
class SimulatedSiteAdmin(admin.ModelAdmin):
    list_display = ("site", "since")
