"""A durable queue on disk between the ingest endpoint and InfluxDB.

Every accepted batch is written to one file under the spool folder (fsynced, then
renamed into place, so a crash never leaves half a batch) before the endpoint answers
204; ``Spool.drain`` delivers the files to InfluxDB oldest first, from the web process's
``SpoolWriter`` thread within milliseconds, or later if InfluxDB is unreachable (the
writer retries every second and celery beat drains every few seconds).
Re-delivering a batch is harmless: a point is keyed by series and time, so InfluxDB
overwrites it with the same values.

Past ``HEATOPS_SPOOL_MAX_BYTES`` the spool takes nothing more: the endpoint answers 503
with Retry-After, so agents (Telegraf) keep the data in their own buffer and retry.
"""

from __future__ import annotations

import fcntl
import logging
import os
import re
import threading
import time
import uuid
from pathlib import Path

from django.conf import settings

from apps.telemetry.influx.client import InfluxClient
from apps.telemetry.influx.errors import InfluxUnavailable, InfluxWriteError
from apps.telemetry.lineprotocol import INFLUX_PRECISION
from apps.telemetry.push import push_accepted

from .refusals import ingest_refusal_record

log = logging.getLogger(__name__)


class SpoolFull(Exception):
    """The spool holds its maximum; nothing more can be accepted until it drains."""


class Spool:
    def __init__(self, directory: Path, max_bytes: int) -> None:
        self.directory = Path(directory)
        self.max_bytes = max_bytes
        self.failed = self.directory / "failed"

    def _files(self) -> list[Path]:
        if not self.directory.exists():
            return []
        return sorted(p for p in self.directory.iterdir() if p.suffix == ".lp")

    def size(self) -> int:
        total = 0
        for path in self._files():
            try:
                total += path.stat().st_size
            except FileNotFoundError:  # delivered meanwhile by the writer
                pass
        return total

    def pending(self) -> int:
        return len(self._files())

    def put(self, payload: bytes, *, precision: str = "n", site: str = "") -> Path:
        """Keep one batch, named so that it is delivered in order with its precision (as
        InfluxDB 1.x names it) and attributed to its site if InfluxDB refuses it."""
        self.directory.mkdir(parents=True, exist_ok=True)
        if self.size() + len(payload) > self.max_bytes:
            raise SpoolFull(
                f"the ingest spool holds {self.size()} bytes of its {self.max_bytes}; "
                "InfluxDB has been unreachable too long"
            )
        name = f"{time.time_ns():020d}-{uuid.uuid4().hex[:8]}"
        tmp = self.directory / f".{name}.tmp"
        with open(tmp, "wb") as fh:
            fh.write(payload)
            fh.flush()
            os.fsync(fh.fileno())
        final = self.directory / f"{name}{'.' + site if site else ''}.{precision}.lp"
        os.replace(tmp, final)
        dir_fd = os.open(self.directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
        return final

    def drain(self, client: InfluxClient) -> int:
        """Deliver spooled batches oldest first until none is left; return how many were
        delivered. Stops at the first sign that InfluxDB is unreachable. One drainer at a
        time: a second caller returns 0 at once."""
        if not self.directory.exists():
            return 0
        delivered = 0
        with open(self.directory / ".lock", "w") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return 0
            while files := self._files():
                for path in files:
                    site, precision = _batch_labels(path)
                    lines = path.read_bytes()
                    try:
                        client.write_lines(lines, precision=precision)
                    except InfluxUnavailable:
                        return delivered
                    except InfluxWriteError as exc:
                        self._refused(path, site, exc)
                        continue
                    push_accepted(lines, precision=precision)  # on the live pages now, not at the next read
                    path.unlink()
                    delivered += 1
        return delivered

    def _refused(self, path: Path, site: str, exc: InfluxWriteError) -> None:
        """InfluxDB refused (part of) a batch heatops had accepted, for good: keep the
        batch aside for a person rather than block the queue, and say so where people
        look (an alarm on the site and the ingest status page), not only in the log."""
        self.failed.mkdir(exist_ok=True)
        os.replace(path, self.failed / path.name)
        lines = path_lines(self.failed / path.name)
        refused = refused_line_count(str(exc), lines)
        log.error("spooled batch %s refused by InfluxDB, moved to %s: %s", path.name, self.failed, exc)
        ingest_refusal_record(site_slug=site, batch=path.name, lines=lines, refused=refused, reason=str(exc))


def _batch_labels(path: Path) -> tuple[str, str]:
    """(site slug or "", InfluxDB precision) from a spooled file's name."""
    parts = path.stem.split(".")
    precision = INFLUX_PRECISION.get(parts[-1], "n") if len(parts) > 1 else "n"
    return (parts[1] if len(parts) > 2 else ""), precision


def path_lines(path: Path) -> int:
    return sum(1 for line in path.read_bytes().split(b"\n") if line.strip())


def refused_line_count(error: str, lines: int) -> int:
    """How many lines of a batch InfluxDB says it did not store: its "unable to parse"
    lines plus the points it reports as "dropped"; all of them if it says neither."""
    count = error.count("unable to parse") + sum(int(n) for n in re.findall(r"dropped=([0-9]+)", error))
    return min(count, lines) if count else lines


class SpoolWriter:
    """Delivers the spool to InfluxDB from a background thread of the web process, so an
    agent's POST is answered as soon as its batch is safe on disk, not after InfluxDB
    has written it. Woken by every accepted batch; also retries every second while
    InfluxDB is unreachable. Celery beat drains the same spool every few seconds, for
    batches a stopped web process left behind."""

    def __init__(self) -> None:
        self._wake = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._pid = 0

    def wake(self) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive() or self._pid != os.getpid():
                self._pid = os.getpid()
                self._thread = threading.Thread(target=self._run, name="ingest-spool-writer", daemon=True)
                self._thread.start()
        self._wake.set()

    def _run(self) -> None:
        from apps.telemetry.influx.client import get_client

        while True:
            self._wake.wait(timeout=1.0)
            self._wake.clear()
            try:
                get_spool().drain(get_client())
            except Exception:  # keep delivering whatever went wrong with one pass
                log.exception("ingest spool writer: delivery pass failed")


writer = SpoolWriter()


def get_spool() -> Spool:
    return Spool(Path(settings.HEATOPS_SPOOL_DIR), int(settings.HEATOPS_SPOOL_MAX_BYTES))
