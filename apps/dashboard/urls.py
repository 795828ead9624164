from django.urls import path

from . import views

app_name = "dashboard"

urlpatterns = [
    path("", views.portfolio, name="portfolio"),
    path("sites/<slug:slug>/", views.site_detail, name="site"),
    path("sites/<slug:slug>/history.json", views.site_history, name="site_history"),
    path("sites/<slug:slug>/capacity/", views.site_capacity, name="site_capacity"),
]
