"""InfluxDB and Redis, each on a port of its own with its data under a folder."""

from __future__ import annotations

import socket
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import ClassVar

from .base import Service, free_port, require

INFLUX_CONFIG = """\
reporting-disabled = true
bind-address = "127.0.0.1:{rpc_port}"

[meta]
  dir = "{root}/meta"
  logging-enabled = false

[data]
  dir = "{root}/data"
  wal-dir = "{root}/wal"
  query-log-enabled = false
  wal-fsync-delay = "{fsync_delay}"

[coordinator]
  log-queries-after = "0s"

[monitor]
  store-enabled = false

[http]
  enabled = true
  bind-address = "127.0.0.1:{port}"
  log-enabled = false
  pprof-enabled = false
  max-body-size = 25000000

[logging]
  level = "warn"
  suppress-logo = true
"""


@dataclass
class InfluxServer(Service):
    name: ClassVar[str] = "influxd"
    rpc_port: int = 0
    fsync_delay: str = "0s"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        binary = require("influxd", "influxdb")
        if not self.rpc_port:
            self.rpc_port = free_port()
        conf = self.root / "influxdb.conf"
        conf.write_text(
            INFLUX_CONFIG.format(
                root=self.root, port=self.port, rpc_port=self.rpc_port, fsync_delay=self.fsync_delay
            )
        )
        return [binary, "-config", str(conf)]

    def ready(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/ping", timeout=0.5) as r:
                return r.status == 204
        except (urllib.error.URLError, OSError):
            return False


@dataclass
class RedisServer(Service):
    name: ClassVar[str] = "redis"
    persist: bool = True

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def command(self) -> list[str]:
        binary = require("redis-server", "redis-server")
        cmd = [binary, "--bind", "127.0.0.1", "--port", str(self.port), "--dir", str(self.root)]
        cmd += ["--daemonize", "no", "--protected-mode", "yes", "--loglevel", "warning"]
        if self.persist:
            cmd += ["--appendonly", "yes", "--save", "60 1"]
        else:
            cmd += ["--appendonly", "no", "--save", ""]
        return cmd

    def ready(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False
