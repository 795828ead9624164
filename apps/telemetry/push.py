"""Points that heatops' ingest endpoint accepted, handed to the telemetry pump the moment
InfluxDB has stored them, so the live pages show them without waiting for the next read.

The hand-over is a Redis list: whoever delivered a batch to InfluxDB (the ingest endpoint,
or the spool writer) appends it, line protocol and precision as written; the pump waits on the
list between its reads of InfluxDB (BLPOP with the time left to the next tick) and merges
what arrives into the state it keeps, where the newest point of each series wins. A point
the pump has already read from InfluxDB is therefore not shown again, and one it gets
here first is not shown again by the next read. Nothing depends on the list: a batch lost
to it (Redis down, or the oldest batches dropped because no pump takes them) still shows
after the pump's next read of InfluxDB, which reads every point however it arrived.

The list is capped by bytes, not by batches (``HEATOPS_PUSH_MAX_BYTES``): while no pump
takes them, the oldest batches go first, so Redis never holds more than that however
large the batches are; a batch larger than the whole cap is not pushed at all. The
push and the trim are one script in Redis, so web processes pushing at once keep the
count of bytes true.
"""

from __future__ import annotations

import logging

import redis
from django.conf import settings

from .influx.results import Reading
from .lineprotocol import PRECISION_NS, LineProtocolError, parse_line, split_lines

log = logging.getLogger(__name__)

# KEYS: the list, its byte count. ARGV: the batch, the cap. Appends the batch and drops
# the oldest ones until the list holds at most the cap; returns the bytes it holds.
_PUSH = """
local n = redis.call('RPUSH', KEYS[1], ARGV[1])
local total = redis.call('INCRBY', KEYS[2], string.len(ARGV[1]))
while total > tonumber(ARGV[2]) and n > 1 do
  total = redis.call('INCRBY', KEYS[2], -string.len(redis.call('LPOP', KEYS[1])))
  n = n - 1
end
if n == 1 then
  -- the batch alone: the count is exactly its size, whatever it said before
  total = string.len(ARGV[1])
  redis.call('SET', KEYS[2], total)
end
return total
"""

# KEYS: the list, its byte count. Everything in the list, which is left empty.
_TAKE = """
local rest = redis.call('LRANGE', KEYS[1], 0, -1)
redis.call('DEL', KEYS[1], KEYS[2])
return rest
"""


def push_key() -> str:
    """One list per InfluxDB database: a pump takes only the points of the database it reads."""
    return f"heatops:pump:accepted:{settings.INFLUX['DB']}"


def _size_key() -> str:
    return push_key() + ":bytes"


_sender: redis.Redis | None = None


def _redis(**options) -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2, **options)


def push_accepted(payload: bytes, *, precision: str) -> None:
    """Hand a batch InfluxDB has just stored to the pump; never raises (the pump's next
    read of InfluxDB shows the points anyway)."""
    global _sender
    batch = precision.encode() + b" " + payload
    cap = settings.HEATOPS_PUSH_MAX_BYTES
    if len(batch) > cap:
        log.debug("a batch of %d bytes is over the push cap (%d): the next read shows it", len(batch), cap)
        return
    try:
        if _sender is None:
            _sender = _redis(socket_timeout=2)
        _sender.eval(_PUSH, 2, push_key(), _size_key(), batch, cap)
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
        self.size_key = _size_key()
        self.ok = True

    def wait(self, timeout_s: float) -> list[bytes]:
        """Block up to ``timeout_s`` for the first pushed batch, then take every batch
        queued behind it. [] after the timeout. Raises RedisError/OSError if Redis is down."""
        first = self.client.blpop([self.key], timeout=max(timeout_s, 0.001))
        if first is None:
            return []
        rest = self.client.eval(_TAKE, 2, self.key, self.size_key)
        return [first[1], *rest]
