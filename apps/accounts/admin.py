from django.contrib import admin

from .models import SiteAccess


@admin.register(SiteAccess)
class SiteAccessAdmin(admin.ModelAdmin):
    list_display = ("user", "site", "granted_at")
    list_filter = ("site",)
    search_fields = ("user__username", "user__email", "site__name")
    autocomplete_fields = ("user", "site")
