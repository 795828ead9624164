from django.contrib import admin

from apps.audit.admin import AuditedAdmin

from .models import Runbook, RunbookVersion


class RunbookVersionInline(admin.StackedInline):
    model = RunbookVersion
    extra = 0
    readonly_fields = ("number", "created_at", "created_by")
    fields = ("number", "safe_state", "steps", "created_at", "created_by")

    def has_change_permission(self, request, obj=None):
        return False  # versions are never edited: add a new one


@admin.register(Runbook)
class RunbookAdmin(AuditedAdmin):
    list_display = ("title", "priority_class", "slug")
    search_fields = ("title",)
    inlines = [RunbookVersionInline]

    def save_formset(self, request, form, formset, change):
        for version in formset.save(commit=False):
            version.number = (
                form.instance.versions.order_by("-number").values_list("number", flat=True).first() or 0
            ) + 1
            version.created_by = request.user
            version.full_clean()
            version.save()
