"""Points that heatops' ingest endpoint accepted, handed to the telemetry pump the moment
InfluxDB has stored them, so the live pages show them without waiting for the next read.

The hand-over is a Redis list: whoever delivered a batch to InfluxDB (the ingest endpoint,
or the spool writer) appends it, line protocol and precision as written; the pump waits on the
list between its reads of InfluxDB (BLPOP with the time left to the next tick) and merges
what arrives into the state it keeps, where the newest point of each series wins. A point
the pump has already read from InfluxDB is therefore not shown again, and one it gets
here first is not shown again by the next read. Nothing depends on the list: a batch lost
to it (Redis down, or the list at ``PUSH_MAX_BATCHES`` because no pump runs) still shows
after the pump's next read of InfluxDB, which reads every point however it arrived.
"""

from __future__ import annotations

import logging

import redis
from django.conf import settings

from .influx.results import Reading
from .lineprotocol import PRECISION_NS, LineProtocolError, parse_line, split_lines

log = logging.getLogger(__name__)

PUSH_MAX_BATCHES = 10_000  # the newest kept while no pump takes them


def push_key() -> str:
    """One list per InfluxDB database: a pump takes only the points of the database it reads."""
    return f"heatops:pump:accepted:{settings.INFLUX['DB']}"


_sender: redis.Redis | None = None


def _redis(**options) -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2, **options)


def push_accepted(payload: bytes, *, precision: str) -> None:
    """Hand a batch InfluxDB has just stored to the pump; never raises (the pump's next
    read of InfluxDB shows the points anyway)."""
    global _sender
    try:
        if _sender is None:
            _sender = _redis(socket_timeout=2)
        with _sender.pipeline(transaction=False) as pipe:
            pipe.rpush(push_key(), precision.encode() + b" " + payload)
            pipe.ltrim(push_key(), -PUSH_MAX_BATCHES, -1)
            pipe.execute()
    except (redis.RedisError, OSError) as exc:
        log.debug("accepted points not pushed to the pump: %s", exc)


def readings_of(batch: bytes) -> list[Reading]:
    """The points of one pushed batch as readings (ints stored as floats, as InfluxDB
    keeps heatops' ingest fields); lines without a time are skipped (the endpoint stamps
    every line it spools)."""
    precision, _, payload = batch.partition(b" ")
    factor = PRECISION_NS.get(precision.decode(), 1)
    readings = []
    for _, line in split_lines(payload.decode("utf-8", "replace")):
        try:
            parsed = parse_line(line)
        except LineProtocolError:
            continue
        if parsed.timestamp is None:
            continue
        time_ms = parsed.timestamp * factor // 1_000_000
        fields = {
            k: float(v) if isinstance(v, int) and not isinstance(v, bool) else v
            for k, v in parsed.fields.items()
        }
        readings.append(
            Reading(parsed.measurement, parsed.tags, time_ms, fields, dict.fromkeys(fields, time_ms))
        )
    return readings


class PushedPoints:
    """The pump's end of the list."""

    def __init__(self, *, max_wait_s: float) -> None:
        # a read may block for up to max_wait_s: the socket must wait longer than that
        self.client = _redis(socket_timeout=max_wait_s + 5)
        self.key = push_key()
        self.ok = True

    def wait(self, timeout_s: float) -> list[bytes]:
        """Block up to ``timeout_s`` for the first pushed batch, then take every batch
        queued behind it. [] after the timeout. Raises RedisError/OSError if Redis is down."""
        first = self.client.blpop([self.key], timeout=max(timeout_s, 0.001))
        if first is None:
            return []
        with self.client.pipeline(transaction=True) as pipe:
            pipe.lrange(self.key, 0, -1)
            pipe.delete(self.key)
            rest, _ = pipe.execute()
        return [first[1], *rest]
