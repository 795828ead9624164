from django.urls import path

from . import views

app_name = "maintenance"

urlpatterns = [
    path("sites/<slug:slug>/maintenance/", views.maintenance_page, name="maintenance"),
    path("sites/<slug:slug>/maintenance/windows/", views.window_create, name="window_create"),
    path(
        "sites/<slug:slug>/maintenance/windows/<int:pk>/<str:action>/",
        views.window_action,
        name="window_action",
    ),
    path("sites/<slug:slug>/maintenance/log/", views.log_entry_create, name="log_entry_create"),
    path("sites/<slug:slug>/maintenance/work-orders/", views.work_order_create, name="work_order_create"),
    path(
        "sites/<slug:slug>/maintenance/work-orders/<int:pk>/state/",
        views.work_order_state,
        name="work_order_state",
    ),
    path(
        "incidents/action-items/<int:pk>/work-order/",
        views.work_order_from_action_item,
        name="work_order_from_action_item",
    ),
]
