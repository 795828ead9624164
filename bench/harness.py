"""What every benchmark needs: its own InfluxDB and Redis (as the tests start them), a
migrated throw-away database, and a Daphne serving heatops, all on free ports."""

from __future__ import annotations

import contextlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from heatops.devservices import InfluxServer, RedisServer, free_port

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Stack:
    influx: InfluxServer
    redis: RedisServer
    env: dict[str, str]
    root: Path
    web_url: str | None = None

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
        return self.manage("shell", "--no-imports", "-c", code).strip().splitlines()[-1]


@contextlib.contextmanager
def stack(*, web: bool = True) -> Iterator[Stack]:
    with tempfile.TemporaryDirectory(prefix="heatops-bench-") as tmp:
        root = Path(tmp)
        influx = InfluxServer(root=root / "influxdb", port=free_port(), fsync_delay="0s")
        redis = RedisServer(root=root / "redis", port=free_port(), persist=False)
        influx.start()
        redis.start()
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "heatops.settings.dev",
            "DEBUG": "0",
            "HEATOPS_VAR": str(root),
            "DATABASE_URL": f"sqlite:///{root / 'db.sqlite3'}",
            "INFLUX_URL": influx.url,
            "INFLUX_DB": "bench",
            "REDIS_URL": redis.url,
            "LOG_LEVEL": "WARNING",
        }
        s = Stack(influx, redis, env, root)
        web_proc = None
        try:
            s.manage("migrate", "--noinput")
            s.manage("influx_setup")
            s.manage("seed_demo", "--no-admin")
            if web:
                port = free_port()
                web_proc = subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "daphne",
                        "-b",
                        "127.0.0.1",
                        "-p",
                        str(port),
                        "heatops.asgi:application",
                    ],
                    cwd=ROOT,
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=open(root / "daphne.log", "wb"),
                )
                s.web_url = f"http://127.0.0.1:{port}"
                _wait_http(s.web_url + "/ingest/pool/ping")
            yield s
        finally:
            if web_proc:
                web_proc.terminate()
                web_proc.wait(timeout=10)
                errors = (root / "daphne.log").read_text(errors="replace")
                if "Traceback" in errors:
                    print("--- the web server logged errors ---\n" + errors[-3000:], file=sys.stderr)
            redis.stop()
            influx.stop()


def _wait_http(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {timeout} s")


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
