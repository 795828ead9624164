from django.urls import path, re_path

from . import views

app_name = "reports"

MONTH = r"(?P<month>\d{4}-\d{2})"

urlpatterns = [
    path("reports/", views.portfolio, name="portfolio"),
    re_path(rf"^reports/{MONTH}\.csv$", views.portfolio_csv, name="portfolio_csv"),
    re_path(rf"^reports/(?P<slug>[-\w]+)/{MONTH}/$", views.site_month, name="site_month"),
    re_path(rf"^reports/(?P<slug>[-\w]+)/{MONTH}\.csv$", views.site_month_csv, name="site_month_csv"),
    re_path(rf"^reports/(?P<slug>[-\w]+)/{MONTH}\.pdf$", views.site_month_pdf, name="site_month_pdf"),
    re_path(rf"^reports/(?P<slug>[-\w]+)/{MONTH}/publish/$", views.publish, name="publish"),
    path("reports/<slug:slug>/range.csv", views.site_range_csv, name="site_range_csv"),
    path("reports/<slug:slug>/period/", views.site_period, name="site_period"),
    path("reports/jobs/<str:job>/", views.publish_progress, name="progress"),
    re_path(r"^reports/snapshots/(?P<pk>\d+)\.(?P<kind>csv|pdf)$", views.snapshot_file, name="snapshot_file"),
]
