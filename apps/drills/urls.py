from django.urls import path

from . import views

app_name = "drills"

urlpatterns = [
    path("sites/<slug:slug>/commissioning/", views.commissioning_page, name="commissioning"),
    path("sites/<slug:slug>/commissioning/drills/", views.drill_create, name="drill_create"),
    path("sites/<slug:slug>/commissioning/drills/<int:pk>/abort/", views.drill_stop, name="drill_abort"),
    path("sites/<slug:slug>/commissioning/steps/<int:pk>/", views.drill_step_tick, name="drill_step"),
]
