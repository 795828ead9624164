from django.contrib import admin

from .models import ChecklistItem, Drill, DrillStep


@admin.register(ChecklistItem)
class ChecklistItemAdmin(admin.ModelAdmin):
    """What each scenario must prove: configured here, like the alarm rules it names."""

    list_display = ("site", "scenario", "expected_rule", "expected_runbook", "time_limit_s")
    list_filter = ("site", "scenario")


class DrillStepInline(admin.TabularInline):
    model = DrillStep
    extra = 0
    fields = ("position", "scenario", "result", "alarm_after_s", "runbook_offered", "detail", "evidence")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Drill)
class DrillAdmin(admin.ModelAdmin):
    """Read here: drills are started, stopped and ticked on the site's commissioning page."""

    list_display = ("site", "mode", "state", "started_at", "finished_at", "started_by")
    list_filter = ("site", "state", "mode")
    inlines = [DrillStepInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
