from django.contrib import admin
from django.utils import timezone

from .models import Assignment, CalendarFeed, Rotation, RotationMember, RotationOverride, Team
from .rotations import rotation_audit_change, rotation_values


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    search_fields = ("name",)
    filter_horizontal = ("members",)


@admin.register(Assignment)
class AssignmentAdmin(admin.ModelAdmin):
    """Read here; edit a site's whole matrix on its RACI page, where one Accountable per area is enforced."""

    list_display = ("site", "area", "role", "user", "team", "rotation")
    list_filter = ("site", "area", "role")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class RotationMemberInline(admin.TabularInline):
    model = RotationMember
    extra = 1
    ordering = ("position", "pk")


@admin.register(Rotation)
class RotationAdmin(admin.ModelAdmin):
    """A rotation's definition and its members' order. Each save is audited with the
    definition before and after; overrides are added on the rotation's page."""

    list_display = ("name", "team", "kind", "handover_time", "timezone", "starts_on")
    list_filter = ("team", "kind")
    search_fields = ("name",)
    inlines = [RotationMemberInline]

    def save_model(self, request, obj, form, change):
        request._rotation_before = rotation_values(Rotation.objects.get(pk=obj.pk)) if change else None
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)  # the members are saved by now
        rotation_audit_change(
            rotation=form.instance, before=request._rotation_before, by=request.user, now=timezone.now()
        )


@admin.register(RotationOverride)
class RotationOverrideAdmin(admin.ModelAdmin):
    """Read here: overrides are added and removed on the rotation's page, with a reason."""

    list_display = ("rotation", "user", "starts_at", "ends_at", "reason", "created_by")
    list_filter = ("rotation",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(CalendarFeed)
class CalendarFeedAdmin(admin.ModelAdmin):
    """Read here (their hashes only); people make and revoke their own on the on-call page."""

    list_display = ("user", "prefix", "created_at", "revoked_at", "last_used_at")
    readonly_fields = ("user", "key_hash", "prefix", "created_at", "revoked_at", "last_used_at")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
