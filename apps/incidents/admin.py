from django.contrib import admin

from .models import Incident


@admin.register(Incident)
class IncidentAdmin(admin.ModelAdmin):
    list_display = ("title", "site", "priority_class", "state", "opened_at")
    list_filter = ("site", "state", "priority_class")
