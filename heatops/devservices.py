"""Start and stop heatops' own InfluxDB, Redis and (optionally) PostgreSQL processes, with
their data under a folder.

One module owns how these servers are launched, for the demo (``deploy/run``, data under
``var/``) and for the test harness (``tests/conftest.py``, data in a temporary folder, on
free ports). It needs nothing but the standard library and the Debian packages ``influxdb``,
``redis-server`` and ``postgresql``; no systemd.

    python -m heatops.devservices up      # start them (reuses ones already running)
    python -m heatops.devservices down    # stop them
    python -m heatops.devservices status

PostgreSQL is one of them when ``HEATOPS_DB=postgres`` (README, "Configuration").
"""

from __future__ import annotations

import argparse
import glob
import os
import re
import secrets
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
    # /usr/sbin is off the PATH of users other than root on Debian (haproxy lives there)
    path = shutil.which(binary) or next(
        (f"{d}/{binary}" for d in ("/usr/bin", "/usr/sbin") if Path(f"{d}/{binary}").exists()), None
    )
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
        if pid and _pid_alive(pid):
            os.kill(pid, self.stop_signal)
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


def postgres_bindir() -> Path:
    """Where PostgreSQL's server programs are: Debian keeps them off PATH, under
    /usr/lib/postgresql/<version>/bin (the newest installed version wins); elsewhere initdb
    is usually on PATH."""
    on_path = shutil.which("initdb")
    if on_path:
        return Path(on_path).resolve().parent
    found = glob.glob("/usr/lib/postgresql/*/bin/initdb")
    if not found:
        raise ServiceError(
            "PostgreSQL not found: install the Debian package 'postgresql' (deploy/bootstrap does it for you)"
        )
    newest = max(found, key=lambda p: [int(n) for n in re.findall(r"\d+", Path(p).parts[-3])])
    return Path(newest).parent


@dataclass
class PostgresServer(Service):
    """A PostgreSQL cluster of heatops' own: initialised on first start in ``root/data``,
    listening on 127.0.0.1 only (TCP, no Unix socket), with a superuser ``user`` whose
    password is generated once into ``root/password``.

    initdb and postgres refuse to run as root, so when we are root they run as Debian's
    ``postgres`` user, which then owns the data folder (every folder above it must let
    that user through, as /tmp and /dev/shm do). ``durable=False`` turns off fsync and
    friends for throw-away test data."""

    name: ClassVar[str] = "postgres"
    # SIGINT is PostgreSQL's "fast" shutdown; SIGTERM's "smart" one waits for every client.
    stop_signal: ClassVar[int] = signal.SIGINT
    user: str = "heatops"
    database: str = "heatops"
    durable: bool = True

    @property
    def datadir(self) -> Path:
        return self.root / "data"

    @property
    def password(self) -> str:
        return (self.root / "password").read_text().strip()

    @property
    def url(self) -> str:
        return self.url_for(self.database)

    def url_for(self, database: str) -> str:
        return f"postgres://{self.user}:{self.password}@127.0.0.1:{self.port}/{database}"

    def _os_user(self) -> str | None:
        return "postgres" if os.geteuid() == 0 else None

    def popen_kwargs(self) -> dict:
        user = self._os_user()
        return {"user": user, "group": user} if user else {}

    def _check_reachable(self, os_user: str) -> None:
        import pwd

        uid = pwd.getpwnam(os_user).pw_uid
        for folder in [self.root, *self.root.parents]:
            st = folder.stat()
            if st.st_uid != uid and not st.st_mode & 0o001:
                raise ServiceError(
                    f"postgres: {folder} does not let the '{os_user}' user through (mode "
                    f"{st.st_mode & 0o777:o}); put the data under a folder it can reach, e.g. in /tmp"
                )

    def initdb(self) -> None:
        """Create the cluster, once."""
        if (self.datadir / "PG_VERSION").exists():
            return
        self.root.mkdir(parents=True, exist_ok=True)
        os_user = self._os_user()
        if os_user:
            self.root.chmod(self.root.stat().st_mode | 0o011)  # let it through (the password file is 0600)
            self._check_reachable(os_user)
        password_file = self.root / "password"
        if not password_file.exists():
            password_file.touch(mode=0o600)
            password_file.write_text(secrets.token_urlsafe(24) + "\n")
        self.datadir.mkdir(mode=0o700, exist_ok=True)
        # initdb reads the password from a file of its own user, removed afterwards
        pwfile = self.root / "initdb-password"
        pwfile.touch(mode=0o600)
        pwfile.write_text(self.password + "\n")
        if os_user:
            shutil.chown(self.datadir, os_user, os_user)
            shutil.chown(pwfile, os_user, os_user)
        cmd = [str(postgres_bindir() / "initdb"), "-D", str(self.datadir), "-U", self.user]
        cmd += [f"--pwfile={pwfile}", "--auth=scram-sha-256", "-E", "UTF8", "--no-locale"]
        cmd += [] if self.durable else ["--no-sync"]
        try:
            with open(self.logfile, "ab") as log:
                done = subprocess.run(
                    cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, **self.popen_kwargs()
                )
        finally:
            pwfile.unlink(missing_ok=True)
        if done.returncode != 0:
            tail = self.logfile.read_text(errors="replace")[-2000:]
            raise ServiceError(f"postgres: initdb failed; its log says:\n{tail}")

    def start(self, *, timeout: float = 30.0) -> bool:
        self.initdb()
        return super().start(timeout=timeout)

    def command(self) -> list[str]:
        cmd = [str(postgres_bindir() / "postgres"), "-D", str(self.datadir), "-p", str(self.port)]
        cmd += ["-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories="]
        if not self.durable:
            cmd += ["-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"]
        return cmd

    def ready(self) -> bool:
        """postmaster.pid's status line says "ready" once connections are accepted (what
        pg_ctl -w waits for)."""
        try:
            lines = (self.datadir / "postmaster.pid").read_text().splitlines()
        except OSError:
            return False
        return len(lines) >= 8 and lines[7].strip() == "ready" and port_open(self.port)

    def create_database(self, name: str) -> None:
        """Create database ``name`` unless it exists (with the client programs, so that this
        module needs no database driver)."""
        env = {**os.environ, "PGPASSWORD": self.password}
        conn = ["-h", "127.0.0.1", "-p", str(self.port), "-U", self.user]
        exists = subprocess.run(
            [
                str(postgres_bindir() / "psql"),
                *conn,
                "-d",
                "postgres",
                "-tAc",
                f"SELECT 1 FROM pg_database WHERE datname = '{name}'",
            ],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        if not exists:
            subprocess.run(
                [str(postgres_bindir() / "createdb"), *conn, name], env=env, check=True, capture_output=True
            )


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
        binary = _require("haproxy", "haproxy")
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


def _port_from_url(url: str, default: int) -> int:
    from urllib.parse import urlsplit

    return urlsplit(url).port or default


def demo_postgres(var: Path) -> PostgresServer:
    """The demo's own PostgreSQL (HEATOPS_DB=postgres), on HEATOPS_POSTGRES_PORT, data under
    var/postgres."""
    return PostgresServer(root=var / "postgres", port=int(os.environ.get("HEATOPS_POSTGRES_PORT", "5440")))


def demo_services(var: Path) -> list[Service]:
    """The demo's servers, on the ports of INFLUX_URL and REDIS_URL, data under var/; and
    PostgreSQL too when HEATOPS_DB=postgres."""
    influx_port = _port_from_url(os.environ.get("INFLUX_URL", "http://127.0.0.1:8086"), 8086)
    redis_port = _port_from_url(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"), 6379)
    rpc_port = int(os.environ.get("INFLUX_RPC_PORT", "8088"))
    services: list[Service] = [
        InfluxServer(root=var / "influxdb", port=influx_port, rpc_port=rpc_port),
        RedisServer(root=var / "redis", port=redis_port),
    ]
    if os.environ.get("HEATOPS_DB") == "postgres":
        services.append(demo_postgres(var))
    return services


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m heatops.devservices")
    parser.add_argument(
        "action", choices=["up", "down", "status", "postgres-url", "balancer", "check-web-ports"]
    )
    parser.add_argument("--var", default=os.environ.get("HEATOPS_VAR", "var"), type=Path)
    args = parser.parse_args(argv)
    if args.action == "balancer":  # the Procfile's balancer: haproxy in the foreground, in our place
        command = web_balancer(args.var.resolve()).command()
        os.execv(command[0], command)
    if args.action == "check-web-ports":
        balancer = web_balancer(args.var.resolve())
        for port in [balancer.port, *balancer.backends]:
            if port_open(port):
                print(
                    f"error: port {port} is taken by another process; heatops serves on HEATOPS_PORT "
                    f"and its web processes listen on the ports after it (see README, 'Configuration')",
                    file=sys.stderr,
                )
                return 1
        return 0
    if args.action == "postgres-url":  # the DATABASE_URL of the demo's own PostgreSQL
        print(demo_postgres(args.var.resolve()).url)
        return 0
    services = demo_services(args.var.resolve())
    try:
        for svc in services:
            if args.action == "up":
                started = svc.start()
                state = "started" if started else "already running"
                print(f"{svc.name}: {state} on port {svc.port} (data and log under {svc.root})")
                if isinstance(svc, PostgresServer):
                    svc.create_database(svc.database)
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
