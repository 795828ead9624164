"""haproxy in front of several Daphne processes: how deploy/run serves on one port."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

from .base import Service, port_open, require

HAPROXY_CONFIG = """\
# Written by heatops.devservices (HaproxyServer): one port in front of {workers} Daphne
# process(es). Websockets pass through as HTTP upgrades; each new connection goes to the
# next worker that answers its health check.
global
  maxconn 4096

defaults
  mode http
  retries 3
  option redispatch
  timeout connect 5s
  timeout http-request 30s
  timeout client 5m
  timeout server 5m
  timeout tunnel 1h

frontend heatops
  bind {bind}:{port}
  # Daphne (--proxy-headers) takes the first X-Forwarded-For entry as the client: set it,
  # never append to what the client sent
  http-request set-header X-Forwarded-For %[src]
  http-request set-header X-Forwarded-Proto http
  http-request del-header X-Forwarded-Port
  default_backend daphne

backend daphne
  balance roundrobin
{servers}
"""


@dataclass
class HaproxyServer(Service):
    """haproxy (Debian's ``haproxy``) on ``bind:port`` balancing over web workers on
    127.0.0.1 at ``backends``: how deploy/run puts several Daphne processes behind one
    port. heatops' sockets work whichever worker a browser lands on, because every
    worker shares the Redis channel layer."""

    name: ClassVar[str] = "haproxy"
    backends: list[int] = field(default_factory=list)
    bind: str = "127.0.0.1"

    @property
    def host(self) -> str:
        return "127.0.0.1" if self.bind == "0.0.0.0" else self.bind

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def config(self) -> str:
        servers = "\n".join(
            f"  server web{i} 127.0.0.1:{p} check inter 2s" for i, p in enumerate(self.backends, 1)
        )
        return HAPROXY_CONFIG.format(
            bind=self.bind, port=self.port, workers=len(self.backends), servers=servers
        )

    def command(self) -> list[str]:
        binary = require("haproxy", "haproxy")
        conf = self.root / "haproxy.cfg"
        self.root.mkdir(parents=True, exist_ok=True)
        conf.write_text(self.config())
        return [binary, "-db", "-f", str(conf)]  # -db: stay in the foreground

    def ready(self) -> bool:
        return port_open(self.port, self.host)


def web_balancer(var: Path) -> HaproxyServer:
    """deploy/run's balancer: HEATOPS_BIND:HEATOPS_PORT in front of HEATOPS_WEB_WORKERS
    Daphne processes on 127.0.0.1, ports HEATOPS_PORT+1 onwards (where honcho starts the
    Procfile's web processes: deploy/run passes it -p HEATOPS_PORT+1 -c web=N)."""
    port = int(os.environ.get("HEATOPS_PORT", "8000"))
    workers = int(os.environ.get("HEATOPS_WEB_WORKERS", "1"))
    return HaproxyServer(
        root=var / "haproxy",
        port=port,
        bind=os.environ.get("HEATOPS_BIND", "127.0.0.1"),
        backends=[port + i for i in range(1, workers + 1)],
    )
