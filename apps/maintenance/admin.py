from django.contrib import admin

from .models import LogEntry, MaintenanceWindow, WorkOrder


@admin.register(MaintenanceWindow)
class MaintenanceWindowAdmin(admin.ModelAdmin):
    """Read here: windows are scheduled, started, extended and ended on the site's
    maintenance page, where each change is audited with its reason."""

    list_display = ("reason", "site", "asset", "owner", "state", "planned_start", "planned_end")
    list_filter = ("site", "state")
    search_fields = ("reason",)
    readonly_fields = ("alarms",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(LogEntry)
class LogEntryAdmin(admin.ModelAdmin):
    list_display = ("performed_at", "site", "asset", "kind", "performed_by")
    list_filter = ("site", "kind")
    search_fields = ("notes",)

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(WorkOrder)
class WorkOrderAdmin(admin.ModelAdmin):
    list_display = ("title", "site", "state", "assignee", "due")
    list_filter = ("site", "state")
    search_fields = ("title", "description")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
