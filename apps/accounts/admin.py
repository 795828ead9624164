from django.contrib import admin, messages

from .models import PersonalToken, SiteAccess
from .services import personal_token_issue, personal_token_revoke


@admin.register(SiteAccess)
class SiteAccessAdmin(admin.ModelAdmin):
    list_display = ("user", "site", "role", "granted_at")
    list_filter = ("site", "role")
    search_fields = ("user__username", "user__email", "site__name")
    autocomplete_fields = ("user", "site")


@admin.register(PersonalToken)
class PersonalTokenAdmin(admin.ModelAdmin):
    list_display = ("name", "user", "prefix", "created_at", "last_used_at", "revoked_at")
    list_filter = (("revoked_at", admin.EmptyFieldListFilter),)
    search_fields = ("name", "user__username", "prefix")
    actions = ["revoke"]

    def get_fields(self, request, obj=None):
        return (
            ("user", "name")
            if obj is None
            else ("user", "name", "prefix", "created_at", "last_used_at", "revoked_at")
        )

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else ("user", "prefix", "created_at", "last_used_at", "revoked_at")

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        token, raw = personal_token_issue(user=obj.user, name=obj.name)
        obj.pk = token.pk
        obj.__dict__.update(token.__dict__)
        messages.warning(
            request, f"API token for {token.user}: {raw} — copy it now, it will not be shown again."
        )

    @admin.action(description="Revoke the selected tokens")
    def revoke(self, request, queryset):
        for token in queryset:
            personal_token_revoke(token=token)
