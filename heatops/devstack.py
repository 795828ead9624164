"""The whole product on free ports, for benchmarks and browser tests: InfluxDB and Redis
(started here unless their URLs are given), a migrated throw-away database (SQLite, or
the empty database of ``database_url``) with the demo sites and a known admin login,
Daphne serving heatops, and optionally the telemetry pump, each a real process as
deploy/run starts them."""

from __future__ import annotations

import contextlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from heatops.devservices.base import free_port, port_open
from heatops.devservices.stores import InfluxServer, RedisServer

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Stack:
    influx_url: str
    redis_url: str
    env: dict[str, str]
    root: Path
    web_url: str | None = None
    procs: dict = field(default_factory=dict)
    # the servers stack() started itself (None for those whose URL it was given), for tests
    # that stop and restart them
    redis: RedisServer | None = None
    influx: InfluxServer | None = None

    @property
    def database(self) -> str:
        return self.env["INFLUX_DB"]

    def manage(self, *args: str) -> str:
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout

    def django_shell(self, code: str) -> str:
        lines = self.manage("shell", "--no-imports", "-c", code).strip().splitlines()
        return lines[-1] if lines else ""

    def serve(
        self, application: str, name: str, *, ready_path: str | None = None, daphne_args: tuple[str, ...] = ()
    ) -> str:
        """Start Daphne (as heatops.web, whose access log masks feed tokens) serving
        ``application`` (a dotted path) with the stack's env on a free port; return its URL
        once it answers ``ready_path`` (or, without one, once the port is open). It is
        stopped with the stack. ``daphne_args`` go to Daphne (``--access-log``)."""
        port = free_port()
        self.procs[name] = _spawn(
            ["-m", "heatops.web", "-b", "127.0.0.1", "-p", str(port), *daphne_args, application],
            self.env,
            self.root,
            name,
        )
        url = f"http://127.0.0.1:{port}"
        if ready_path:
            _wait_http(url + ready_path)
        else:
            _wait_port(port)
        return url


ADMIN_PASSWORD = "stack-admin-password"


@contextlib.contextmanager
def stack(
    *,
    web: bool = True,
    pump: bool = False,
    influx_url: str | None = None,
    redis_url: str | None = None,
    database: str = "bench",
    database_url: str | None = None,
    extra_env: dict[str, str] | None = None,
    before_start: Callable[[Stack], None] | None = None,
) -> Iterator[Stack]:
    """``before_start`` runs once the database is migrated and seeded and before Daphne and
    the pump start, e.g. to add sites the pump should see from its first tick."""
    with tempfile.TemporaryDirectory(prefix="heatops-stack-") as tmp:
        root = Path(tmp)
        influx = InfluxServer(root=root / "influxdb", port=free_port(), fsync_delay="0s")
        redis = RedisServer(root=root / "redis", port=free_port(), persist=False)
        if not influx_url:
            influx.start()
            influx_url = influx.url
        if not redis_url:
            redis.start()
            redis_url = redis.url
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "heatops.settings.dev",
            "DEBUG": "0",
            "HEATOPS_VAR": str(root),
            "DATABASE_URL": database_url or f"sqlite:///{root / 'db.sqlite3'}",
            "INFLUX_URL": influx_url,
            "INFLUX_DB": database,
            "REDIS_URL": redis_url,
            "LOG_LEVEL": "WARNING",
            "HEATOPS_ADMIN_PASSWORD": ADMIN_PASSWORD,
            **(extra_env or {}),
        }
        s = Stack(influx_url, redis_url, env, root)
        s.redis = redis if redis.proc else None
        s.influx = influx if influx.proc else None
        procs: dict[str, subprocess.Popen] = s.procs  # processes started later are stopped too
        try:
            s.manage("migrate", "--noinput")
            s.manage("influx_setup")
            s.manage("seed_demo")
            if before_start:
                before_start(s)
            if web:
                s.web_url = s.serve("heatops.asgi:application", "daphne", ready_path="/ingest/pool/ping")
            if pump:
                procs["pump"] = _spawn(["manage.py", "telemetry_pump"], env, root, "pump")
            yield s
        finally:
            for name, proc in procs.items():
                proc.terminate()
                proc.wait(timeout=10)
                errors = (root / f"{name}.log").read_text(errors="replace")
                if "Traceback" in errors:
                    print(f"--- {name} logged errors ---\n" + errors[-3000:], file=sys.stderr)
            redis.stop()
            influx.stop()


def _spawn(args: list[str], env: dict, root: Path, name: str) -> subprocess.Popen:
    log = open(root / f"{name}.log", "wb")
    return subprocess.Popen([sys.executable, *args], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log)


def _wait_http(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {timeout} s")


def _wait_port(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not port_open(port):
        if time.monotonic() > deadline:
            raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {timeout} s")
        time.sleep(0.1)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def median(values: list[float]) -> float:
    return statistics.median(values)


def table(rows: list[tuple], header: tuple) -> str:
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows, strict=False)]
    fmt = "  ".join(f"{{:>{w}}}" for w in widths)
    return "\n".join([fmt.format(*header), *(fmt.format(*r) for r in rows)])
