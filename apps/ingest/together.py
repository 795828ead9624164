"""Batches that reach one web process at the same moment go to InfluxDB in one write.

With many agents posting, a web process would otherwise make one InfluxDB write and one
push to the live pages (``apps.telemetry.push``) per request, each a round trip that
holds a thread. Here the first batch to arrive is written at once, by the request's own
thread, as before; batches arriving while that write is under way wait, and the first of
them then writes all of them together (up to ``MAX_WRITE_BYTES``, one precision per
write), then pushes them in one go. Nobody waits for more than the write already under
way and their own: under light load every batch is a write of its own, and under heavy
load writes grow instead of queueing up.

A batch counts as stored only if the write that carried it was answered 204. If the
write fails (InfluxDB unreachable, slow, or refusing a line of any batch in it), every
batch in it is answered "not stored" and its caller keeps it in the spool, exactly as a
failed write of its own: a point InfluxDB took from the failed write is written again
from the spool, which InfluxDB treats as the same point (same series and time), and a
refused line is set aside by the spool's writer with its own batch only.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field

from apps.telemetry.influx.client import get_client
from apps.telemetry.influx.errors import InfluxUnavailable, InfluxWriteError
from apps.telemetry.push import push_accepted

from .spool import MAX_DELIVERY_BYTES

log = logging.getLogger(__name__)

MAX_WRITE_BYTES = MAX_DELIVERY_BYTES  # as the spool's writer delivers batches waiting together


@dataclass(eq=False)
class _Batch:
    payload: bytes
    precision: str  # as InfluxDB 1.x names it
    done: threading.Event = field(default_factory=threading.Event)
    stored: bool = False
    lead: bool = False  # this batch's thread writes the next group


class WritesTogether:
    """One per process (``writes_together``); thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiting: list[_Batch] = []
        self._busy = False  # a write is under way, or about to be
        self.writes = 0  # InfluxDB writes made, for the tests and benches

    def write(self, payload: bytes, precision: str) -> bool:
        """Whether InfluxDB stored the batch (answered 204 to a write that carried it)."""
        batch = _Batch(payload, precision)
        with self._lock:
            if self._busy:
                self._waiting.append(batch)
            else:
                self._busy = batch.lead = True
        if not batch.lead:
            batch.done.wait()
            if not batch.lead:
                return batch.stored  # carried by another thread's write
        group: list[_Batch] = []
        try:
            with self._lock:
                group = self._take(batch)
            self._store(group)
        finally:
            with self._lock:
                if self._waiting:  # hand the next write to the first batch waiting
                    following = self._waiting[0]
                    following.lead = True
                    following.done.set()
                else:
                    self._busy = False
            for other in group:
                if other is not batch:
                    other.done.set()
        return batch.stored

    def _take(self, batch: _Batch) -> list[_Batch]:
        """The leader's batch and those waiting of its precision, up to MAX_WRITE_BYTES."""
        group, size, rest = [batch], len(batch.payload), []
        for other in self._waiting:
            if other is batch:
                continue
            if other.precision == batch.precision and size + len(other.payload) <= MAX_WRITE_BYTES:
                group.append(other)
                size += len(other.payload)
            else:
                rest.append(other)
        self._waiting = rest
        return group

    def _store(self, group: list[_Batch]) -> None:
        together = b"\n".join(b.payload.rstrip(b"\n") for b in group) + b"\n"
        precision = group[0].precision
        try:
            self.writes += 1
            get_client().write_lines(together, precision=precision)
        except (InfluxUnavailable, InfluxWriteError):
            return  # none stored: each caller spools its own batch
        except Exception:
            log.exception("a write of %d ingested batches failed: they go to the spool", len(group))
            return
        for b in group:
            b.stored = True
        push_accepted(together, precision=precision)  # on the live pages now


writes_together = WritesTogether()
