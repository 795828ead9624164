from django.urls import path

from . import views

app_name = "incidents"

urlpatterns = [
    path("incidents/", views.incident_list, name="incident_list"),
    path("incidents/open/", views.incident_open, name="incident_open"),
    path("incidents/<int:pk>/", views.incident_detail, name="incident_detail"),
    path("incidents/<int:pk>/note/", views.incident_note, name="incident_note"),
    path("incidents/<int:pk>/step/", views.incident_step, name="incident_step"),
    path("incidents/<int:pk>/state/", views.incident_state, name="incident_state"),
    path("incidents/<int:pk>/review/", views.incident_review, name="incident_review"),
]
