from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

admin.site.site_header = "heatops administration"
admin.site.site_title = "heatops"
admin.site.index_title = "Sites, assets and configuration"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("ingest/", include("apps.ingest.urls")),
    path("", RedirectView.as_view(pattern_name="admin:index", permanent=False)),
]
