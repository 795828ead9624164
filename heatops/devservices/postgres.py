"""A PostgreSQL cluster of heatops' own (``HEATOPS_DB=postgres``, and the test harness)."""

from __future__ import annotations

import glob
import os
import re
import secrets
import shutil
import signal
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from .base import Service, ServiceError, port_open


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
