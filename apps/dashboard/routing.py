from django.urls import path

from . import consumers

websocket_urlpatterns = [
    path("ws/portfolio/", consumers.PortfolioConsumer.as_asgi()),
    path("ws/sites/<slug:slug>/", consumers.SiteConsumer.as_asgi()),
]
