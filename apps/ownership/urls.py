from django.urls import path

from . import views

app_name = "ownership"

urlpatterns = [path("sites/<slug:slug>/raci/", views.raci_grid, name="raci")]
