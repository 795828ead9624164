from django.contrib import admin, messages
from django.utils import timezone

from .models import IngestRefusal, IngestToken
from .services import ingest_token_issue, ingest_token_revoke


@admin.register(IngestToken)
class IngestTokenAdmin(admin.ModelAdmin):
    list_display = ("name", "site", "prefix", "created_at", "created_by", "last_used_at", "state")
    list_filter = ("site", ("revoked_at", admin.EmptyFieldListFilter))
    search_fields = ("name", "prefix", "site__name")
    readonly_fields = ("prefix", "created_at", "created_by", "last_used_at", "revoked_at")
    actions = ["revoke"]

    def get_fields(self, request, obj=None):
        return ("site", "name") if obj is None else ("site", "name", *self.readonly_fields)

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj is None else ("site", *self.readonly_fields)

    @admin.display(description="state")
    def state(self, obj: IngestToken) -> str:
        return "active" if obj.is_active else f"revoked {timezone.localtime(obj.revoked_at):%Y-%m-%d %H:%M}"

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        token, raw = ingest_token_issue(site=obj.site, name=obj.name, user=request.user)
        obj.pk = token.pk
        obj.__dict__.update(token.__dict__)
        messages.warning(
            request,
            f"Token for {token.site.name}: {raw} — copy it now, it will not be shown again. "
            f'Telegraf: urls = ["{request.scheme}://{request.get_host()}/ingest/{token.site.slug}"], password = the token.',
        )

    @admin.action(description="Revoke the selected tokens")
    def revoke(self, request, queryset):
        for token in queryset:
            ingest_token_revoke(token=token, user=request.user)
        self.message_user(request, f"Revoked {queryset.count()} token(s); agents using them now get 401.")


@admin.register(IngestRefusal)
class IngestRefusalAdmin(admin.ModelAdmin):
    """Read-only: what InfluxDB refused after heatops had accepted it."""

    list_display = ("at", "site", "refused", "lines", "batch")
    list_filter = ("site",)
    search_fields = ("batch", "reason", "site__name")
    readonly_fields = ("at", "site", "batch", "lines", "refused", "reason")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
