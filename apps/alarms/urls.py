from django.urls import path

from . import views

app_name = "alarms"

urlpatterns = [
    path("alarms/", views.alarm_list_view, name="alarm_list"),
    path("alarms/bulk/", views.alarm_bulk, name="alarm_bulk"),
    path("alarms/<int:pk>/", views.alarm_detail, name="alarm_detail"),
    path("alarms/<int:pk>/ack/", views.alarm_ack, name="alarm_ack"),
    path("alarms/<int:pk>/resolve/", views.alarm_resolve, name="alarm_resolve"),
    path("alarms/<int:pk>/shelve/", views.alarm_shelve, name="alarm_shelve"),
    path("api/openapi.json", views.api_openapi, name="api_openapi"),
    path("api/alarms/", views.api_alarm_list, name="api_alarm_list"),
    path("api/alarms/<int:pk>/ack/", views.api_alarm_ack, name="api_alarm_ack"),
]
