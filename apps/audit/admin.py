from django import forms
from django.contrib import admin

from .models import AuditEntry
from .services import audit_record, snapshot


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows nobody adds, changes or deletes from the admin: they are records."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    """Read-only: the log cannot be edited from any UI."""

    list_display = ("at", "site", "user", "action", "object_repr", "reason")
    list_filter = ("site", "action")
    search_fields = ("object_repr", "reason", "user__username", "action")


class ReasonForm(forms.ModelForm):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), help_text="Why this change? Kept in the audit log."
    )


class AuditedAdmin(admin.ModelAdmin):
    """Changes made here are audited with before, after and a reason the form requires."""

    form = ReasonForm

    def get_fieldsets(self, request, obj=None):
        fieldsets = list(super().get_fieldsets(request, obj))
        return [*fieldsets, ("Why", {"fields": ("reason",)})]

    def audit_site(self, obj):
        return getattr(obj, "site", None) if not obj.__class__.__name__ == "Site" else obj

    def save_model(self, request, obj, form, change):
        before = snapshot(type(obj).objects.get(pk=obj.pk)) if change else None
        super().save_model(request, obj, form, change)
        audit_record(
            site=self.audit_site(obj),
            user=request.user,
            action="changed" if change else "created",
            obj=obj,
            before=before,
            after=snapshot(obj),
            reason=form.cleaned_data.get("reason", ""),
        )

    def delete_model(self, request, obj):
        audit_record(
            site=self.audit_site(obj), user=request.user, action="deleted", obj=obj, before=snapshot(obj)
        )
        super().delete_model(request, obj)
