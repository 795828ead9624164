"""Start and stop heatops' own InfluxDB and Redis processes, with their data under a folder.

One module owns how these servers are launched, for the demo (``deploy/run``, data under
``var/``) and for the test harness (``tests/conftest.py``, data in a temporary folder, on
free ports). It needs nothing but the standard library and the Debian packages ``influxdb``
and ``redis-server``; no systemd.

    python -m heatops.devservices up      # start both (reuses ones already running)
    python -m heatops.devservices down    # stop both
    python -m heatops.devservices status
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

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


class ServiceError(RuntimeError):
    """A server binary is missing or did not come up."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex((host, port)) == 0


def _require(binary: str, package: str) -> str:
    path = shutil.which(binary) or (f"/usr/bin/{binary}" if Path(f"/usr/bin/{binary}").exists() else None)
    if not path:
        raise ServiceError(
            f"{binary} not found: install the Debian package '{package}' (deploy/bootstrap does it for you)"
        )
    return path


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    return True


@dataclass
class Service:
    """One server process whose data, log and pid file live under ``root``."""

    name: ClassVar[str] = "service"
    root: Path
    port: int
    proc: subprocess.Popen | None = field(default=None, repr=False)

    @property
    def pidfile(self) -> Path:
        return self.root / f"{self.name}.pid"

    @property
    def logfile(self) -> Path:
        return self.root / f"{self.name}.log"

    def command(self) -> list[str]:  # pragma: no cover - overridden
        raise NotImplementedError

    def ready(self) -> bool:  # pragma: no cover - overridden
        raise NotImplementedError

    def running_pid(self) -> int | None:
        try:
            pid = int(self.pidfile.read_text().strip())
        except (FileNotFoundError, ValueError):
            return None
        return pid if _pid_alive(pid) else None

    def start(self, *, timeout: float = 30.0) -> bool:
        """Start the server unless ours already runs; return True if this call started it."""
        self.root.mkdir(parents=True, exist_ok=True)
        if self.running_pid() and self.ready():
            return False
        if port_open(self.port):
            raise ServiceError(
                f"{self.name}: port {self.port} is taken by another process; "
                f"choose another port (see README, 'Configuration')"
            )
        log = open(self.logfile, "ab")
        self.proc = subprocess.Popen(
            self.command(),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # Ctrl-C in the terminal is handled by whoever started us
        )
        log.close()
        self.pidfile.write_text(str(self.proc.pid))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                tail = self.logfile.read_text(errors="replace")[-2000:]
                raise ServiceError(f"{self.name} exited at start; its log says:\n{tail}")
            if self.ready():
                return True
            time.sleep(0.05)
        self.stop()
        raise ServiceError(f"{self.name} did not answer on port {self.port} within {timeout:.0f} s")

    def stop(self, *, timeout: float = 15.0) -> None:
        pid = self.proc.pid if self.proc else self.running_pid()
        if pid and _pid_alive(pid):
            os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline and _pid_alive(pid):
                if self.proc:
                    self.proc.poll()
                time.sleep(0.05)
            if _pid_alive(pid):
                os.kill(pid, signal.SIGKILL)
            if self.proc:
                self.proc.wait(timeout=5)
        self.pidfile.unlink(missing_ok=True)
        self.proc = None


@dataclass
class InfluxServer(Service):
    name: ClassVar[str] = "influxd"
    rpc_port: int = 0
    fsync_delay: str = "0s"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        binary = _require("influxd", "influxdb")
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
        binary = _require("redis-server", "redis-server")
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


def _port_from_url(url: str, default: int) -> int:
    from urllib.parse import urlsplit

    return urlsplit(url).port or default


def demo_services(var: Path) -> tuple[InfluxServer, RedisServer]:
    """The demo's servers, on the ports of INFLUX_URL and REDIS_URL, data under var/."""
    influx_port = _port_from_url(os.environ.get("INFLUX_URL", "http://127.0.0.1:8086"), 8086)
    redis_port = _port_from_url(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"), 6379)
    rpc_port = int(os.environ.get("INFLUX_RPC_PORT", "8088"))
    return (
        InfluxServer(root=var / "influxdb", port=influx_port, rpc_port=rpc_port),
        RedisServer(root=var / "redis", port=redis_port),
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m heatops.devservices")
    parser.add_argument("action", choices=["up", "down", "status"])
    parser.add_argument("--var", default=os.environ.get("HEATOPS_VAR", "var"), type=Path)
    args = parser.parse_args(argv)
    services = demo_services(args.var.resolve())
    try:
        for svc in services:
            if args.action == "up":
                started = svc.start()
                state = "started" if started else "already running"
                print(f"{svc.name}: {state} on port {svc.port} (data and log under {svc.root})")
            elif args.action == "down":
                svc.stop()
                print(f"{svc.name}: stopped")
            else:
                pid = svc.running_pid()
                print(f"{svc.name}: " + (f"running, pid {pid}, port {svc.port}" if pid else "stopped"))
    except ServiceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
