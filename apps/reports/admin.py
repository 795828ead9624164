from django.contrib import admin

from apps.audit.admin import ReadOnlyAdmin

from .models import ReportDelivery, ReportRecipient, ReportSnapshot


@admin.register(ReportRecipient)
class ReportRecipientAdmin(admin.ModelAdmin):
    """Extra addresses for a site's published reports, besides those Informed for
    contract and billing in its RACI matrix (people outside heatops, e.g. the customer)."""

    list_display = ("site", "user", "email")
    list_filter = ("site",)
    search_fields = ("email", "user__username", "user__email", "site__name")


class ReportDeliveryInline(admin.TabularInline):
    model = ReportDelivery
    extra = 0
    can_delete = False
    readonly_fields = ("sent_at", "recipients")

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(ReportSnapshot)
class ReportSnapshotAdmin(ReadOnlyAdmin):
    """Read-only: a published report never changes; publishing again makes a new version."""

    list_display = ("site", "label", "version", "created_at", "created_by")
    list_filter = ("site", "label")
    fields = (
        "site",
        "label",
        "period_start",
        "period_end",
        "version",
        "created_at",
        "created_by",
        "inputs",
        "figures",
    )
    readonly_fields = fields
    inlines = [ReportDeliveryInline]
