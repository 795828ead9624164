"""A server process of heatops' own: its data, log and pid file under one folder; started
unless already running, stopped by its pid."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar


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


def require(binary: str, package: str) -> str:
    # /usr/sbin is off the PATH of users other than root on Debian (haproxy lives there)
    path = shutil.which(binary) or next(
        (f"{d}/{binary}" for d in ("/usr/bin", "/usr/sbin") if Path(f"{d}/{binary}").exists()), None
    )
    if not path:
        raise ServiceError(
            f"{binary} not found: install the Debian package '{package}' (deploy/bootstrap does it for you)"
        )
    return path


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    return True


@dataclass
class Service:
    """One server process whose data, log and pid file live under ``root``."""

    name: ClassVar[str] = "service"
    stop_signal: ClassVar[int] = signal.SIGTERM
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

    def popen_kwargs(self) -> dict:
        """Extra arguments for Popen (another user, say)."""
        return {}

    def running_pid(self) -> int | None:
        try:
            pid = int(self.pidfile.read_text().strip())
        except (FileNotFoundError, ValueError):
            return None
        return pid if pid_alive(pid) else None

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
        # servers keep the machine's real clock, even when heatops runs under libfaketime
        # (deploy/test --clock-check): redis-server cannot even start with it preloaded
        env = {k: v for k, v in os.environ.items() if k not in ("LD_PRELOAD", "FAKETIME")}
        self.proc = subprocess.Popen(
            self.command(),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # Ctrl-C in the terminal is handled by whoever started us
            env=env,
            **self.popen_kwargs(),
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
        if pid and pid_alive(pid):
            os.kill(pid, self.stop_signal)
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline and pid_alive(pid):
                if self.proc:
                    self.proc.poll()
                time.sleep(0.05)
            if pid_alive(pid):
                os.kill(pid, signal.SIGKILL)
            if self.proc:
                self.proc.wait(timeout=5)
        self.pidfile.unlink(missing_ok=True)
        self.proc = None
