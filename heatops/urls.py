from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView

from apps.accounts.throttle import ThrottledAdminAuthenticationForm
from apps.ingest.urls import root_urlpatterns as influx_v1_paths

admin.site.site_header = "heatops administration"
admin.site.site_title = "heatops"
admin.site.index_title = "Sites, assets and configuration"
admin.site.login_form = ThrottledAdminAuthenticationForm

urlpatterns = [
    path("favicon.ico", RedirectView.as_view(url=static("favicon.svg"), permanent=True)),
    path("admin/", admin.site.urls),
    path("ingest/", include("apps.ingest.urls")),
    path("", include((influx_v1_paths, "ingest_v1"))),
    path("accounts/", include("apps.accounts.urls")),
    path("", include("apps.alarms.urls")),
    path("", include("apps.ownership.urls")),
    path("", include("apps.incidents.urls")),
    path("", include("apps.runbooks.urls")),
    path("", include("apps.audit.urls")),
    path("", include("apps.maintenance.urls")),
    path("", include("apps.reports.urls")),
    path("", include("apps.business.urls")),
    path("", include("apps.drills.urls")),
    path("", include("apps.dashboard.urls")),
]
