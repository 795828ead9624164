from django.urls import path

from . import consumers

websocket_urlpatterns = [
    path("ws/alarms/", consumers.AlarmListConsumer.as_asgi()),
]
