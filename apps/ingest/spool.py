"""A durable queue on disk between the ingest endpoint and InfluxDB.

Every accepted batch is written to one file under the spool folder (fsynced, then
renamed into place, so a crash never leaves half a batch) before the endpoint answers
204; ``Spool.drain`` delivers the files to InfluxDB oldest first (those waiting together in
one write, see ``_groups``), from the web process's ``SpoolWriter`` thread within milliseconds, or later if InfluxDB is unreachable (the
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
from collections.abc import Iterator
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
                for group in _groups(files):
                    try:
                        delivered += self._deliver(client, group)
                    except InfluxUnavailable:
                        return delivered
        return delivered

    def _deliver(self, client: InfluxClient, group: list[tuple[Path, bytes]]) -> int:
        """Write a group of batches (oldest first, one precision) in one request, or if
        InfluxDB refuses that, each on its own, so that a refusal is set aside with the
        batch it belongs to. Return how many were delivered."""
        precision = _batch_labels(group[0][0])[1]
        if len(group) > 1:
            together = b"\n".join(payload for _, payload in group)
            try:
                client.write_lines(together, precision=precision)
            except InfluxWriteError:
                pass  # one by one below; InfluxDB keeps what it took, so nothing is lost twice
            else:
                push_accepted(together, precision=precision)
                for path, _ in group:
                    path.unlink()
                return len(group)
        delivered = 0
        for path, payload in group:
            try:
                client.write_lines(payload, precision=precision)
            except InfluxWriteError as exc:
                self._refused(path, _batch_labels(path)[0], exc)
                continue
            push_accepted(payload, precision=precision)  # on the live pages now, not at the next read
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


MAX_DELIVERY_BYTES = 1 << 20  # batches waiting together go to InfluxDB in writes of up to this


def _groups(files: list[Path]) -> Iterator[list[tuple[Path, bytes]]]:
    """Consecutive spooled batches of one precision, read, in groups of at most
    MAX_DELIVERY_BYTES (a batch larger than that on its own): when batches arrive faster
    than one write per batch reaches InfluxDB, they are delivered in fewer, larger writes,
    which InfluxDB takes for less per line."""
    group: list[tuple[Path, bytes]] = []
    size, precision = 0, None
    for path in files:
        payload = path.read_bytes()
        labels = _batch_labels(path)
        if group and (labels[1] != precision or size + len(payload) > MAX_DELIVERY_BYTES):
            yield group
            group, size = [], 0
        group.append((path, payload))
        size += len(payload)
        precision = labels[1]
    if group:
        yield group


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
