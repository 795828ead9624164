from django.urls import path

from . import views

app_name = "ingest"

urlpatterns = [
    path("<slug:site_slug>/write", views.write, name="write"),
    path("<slug:site_slug>/query", views.query, name="query"),
    path("<slug:site_slug>/ping", views.ping, name="ping"),
]

# InfluxDB's own paths, for clients that cannot take a prefix: the site is the token's.
root_urlpatterns = [
    path("write", views.write, name="write"),
    path("query", views.query, name="query"),
    path("ping", views.ping, name="ping"),
]
