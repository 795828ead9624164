from django.contrib import admin

from apps.accounts.permissions import EDIT_RULES, can
from apps.accounts.selectors import sites_visible_to
from apps.assets.admin import SiteAdmin as AssetsSiteAdmin
from apps.audit.admin import AuditedAdmin
from apps.sites.models import Site

from .defaults import alarm_rules_create_defaults
from .models import Alarm, AlarmEvent, AlarmRule, OnCall, Webhook


class SiteAdmin(AssetsSiteAdmin):
    """The site admin (apps/assets/admin.py) with the action that creates a site's default
    alarm rules; registered in its place, as this app comes after assets."""

    actions = [*AssetsSiteAdmin.actions, "create_default_alarm_rules"]

    @admin.action(description="Create the default alarm rules (from kind and rated limits)")
    def create_default_alarm_rules(self, request, queryset):
        created = sum(len(alarm_rules_create_defaults(site=site)) for site in queryset)
        self.message_user(request, f"Created {created} alarm rule(s); rules that already existed were kept.")


admin.site.unregister(Site)
admin.site.register(Site, SiteAdmin)


@admin.register(AlarmRule)
class AlarmRuleAdmin(AuditedAdmin):
    """Rules are edited here, by role: estates the thermal, electrical and safety rules,
    DevOps the compute and network ones, site administrators all; every change needs a
    reason and lands in the audit log."""

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

    def get_queryset(self, request):
        return super().get_queryset(request).filter(site__in=sites_visible_to(request.user))

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_staff

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_staff

    def has_add_permission(self, request):
        return request.user.is_superuser or any(
            can(request.user, EDIT_RULES, site) for site in sites_visible_to(request.user)
        )

    def has_change_permission(self, request, obj=None):
        if obj is None:
            return self.has_add_permission(request)
        return can(request.user, EDIT_RULES, obj.site, domain=obj.domain)

    def has_delete_permission(self, request, obj=None):
        return self.has_change_permission(request, obj)

    def save_model(self, request, obj, form, change):
        from django.core.exceptions import PermissionDenied

        if not can(request.user, EDIT_RULES, obj.site, domain=obj.domain):
            raise PermissionDenied(
                f"Your role at {obj.site} may not edit {obj.get_domain_display().lower()} rules."
            )
        super().save_model(request, obj, form, change)


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
