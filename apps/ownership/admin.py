from django.contrib import admin

from .models import Assignment, Team


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    search_fields = ("name",)
    filter_horizontal = ("members",)


@admin.register(Assignment)
class AssignmentAdmin(admin.ModelAdmin):
    """Read here; edit a site's whole matrix on its RACI page, where one Accountable per area is enforced."""

    list_display = ("site", "area", "role", "user", "team")
    list_filter = ("site", "area", "role")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
