"""A bare Channels echo, the baseline of bench.live: served by its own Daphne with the
stack's environment, so it uses heatops' channel layer settings (the same Redis).

A websocket at ``/ws/echo/<n>/`` joins group ``bench.echo.<n>`` (no authentication, no
database) and forwards the text of every ``bench.echo`` event sent to that group. The
bench sends one event per "site" and second, as the pump publishes one update per site
and second, so both fan out the same way. HTTP answers 204 to anything.

    daphne bench.echo_asgi:application
"""

from __future__ import annotations

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "heatops.settings.dev")

from channels.generic.websocket import AsyncWebsocketConsumer  # noqa: E402
from channels.routing import ProtocolTypeRouter  # noqa: E402


def echo_group(n: int | str) -> str:
    return f"bench.echo.{n}"


class EchoConsumer(AsyncWebsocketConsumer):
    async def connect(self):
        self.group = echo_group(self.scope["path"].strip("/").rsplit("/", 1)[-1])
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def disconnect(self, code):
        await self.channel_layer.group_discard(self.group, self.channel_name)

    async def bench_echo(self, event):
        await self.send(text_data=event["text"])


async def no_content(scope, receive, send):
    """Any HTTP request: 204, so the server can be waited for like heatops'."""
    await send({"type": "http.response.start", "status": 204, "headers": []})
    await send({"type": "http.response.body", "body": b""})


application = ProtocolTypeRouter({"websocket": EchoConsumer.as_asgi(), "http": no_content})
