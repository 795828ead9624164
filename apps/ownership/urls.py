from django.urls import path

from . import rotation_views, views

app_name = "ownership"

urlpatterns = [
    path("sites/<slug:slug>/raci/", views.raci_grid, name="raci"),
    path("on-call/", rotation_views.rotation_list, name="rotations"),
    path("on-call/feed/", rotation_views.feed_issue, name="feed_issue"),
    path("on-call/feed/revoke/", rotation_views.feed_revoke, name="feed_revoke"),
    path("on-call/<int:pk>/", rotation_views.rotation_detail, name="rotation"),
    path("on-call/<int:pk>/overrides/", rotation_views.override_add, name="override_add"),
    path(
        "on-call/<int:pk>/overrides/<int:override>/remove/",
        rotation_views.override_remove,
        name="override_remove",
    ),
    path("on-call/<int:pk>/calendar.ics", rotation_views.rotation_ics, name="rotation_ics"),
    path("on-call/<int:pk>/feed/<str:token>.ics", rotation_views.rotation_feed, name="rotation_feed"),
]
