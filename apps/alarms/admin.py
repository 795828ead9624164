from django.contrib import admin

from .models import Alarm, AlarmEvent, AlarmRule, OnCall, Webhook


@admin.register(AlarmRule)
class AlarmRuleAdmin(admin.ModelAdmin):
    list_display = ("name", "site", "kind", "severity", "domain", "enabled")
    list_filter = ("site", "kind", "severity", "domain", "enabled")
    search_fields = ("name", "meaning", "site__name")
    autocomplete_fields = ("asset",)
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "site",
                    "asset",
                    "name",
                    "kind",
                    "severity",
                    "domain",
                    "enabled",
                    "meaning",
                    "runbook_hint",
                )
            },
        ),
        ("Series watched", {"fields": ("measurement", "field", "tags")}),
        (
            "Condition",
            {
                "fields": (
                    ("threshold", "clear_at"),
                    "for_seconds",
                    ("rate_per_min", "rate_window_s"),
                    "stale_after_s",
                    ("band_low", "band_high"),
                    "conditions",
                )
            },
        ),
        ("Escalation", {"fields": ("ack_timeout_min", "max_escalations")}),
    )


class AlarmEventInline(admin.TabularInline):
    model = AlarmEvent
    extra = 0
    can_delete = False
    readonly_fields = ("at", "kind", "user", "note")

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Alarm)
class AlarmAdmin(admin.ModelAdmin):
    """Read-only: alarms change state through the dashboards, where the history is kept."""

    list_display = ("title", "site", "severity", "state", "fired_at", "acknowledged_by", "occurrences")
    list_filter = ("site", "severity", "domain", "state")
    search_fields = ("title", "message")
    inlines = [AlarmEventInline]

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False


@admin.register(OnCall)
class OnCallAdmin(admin.ModelAdmin):
    list_display = ("site", "level", "user")
    list_filter = ("site", "level")
    autocomplete_fields = ("user",)


@admin.register(Webhook)
class WebhookAdmin(admin.ModelAdmin):
    list_display = ("name", "url", "site", "is_active")
    list_filter = ("is_active", "site")
