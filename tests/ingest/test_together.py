"""Batches arriving at one web process while a write to InfluxDB is under way go to the real
InfluxDB together in the next write, each caller told whether its own batch was stored;
a failed write leaves every batch in it "not stored", for its caller to spool."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from apps.ingest import together
from apps.ingest.together import WritesTogether
from apps.telemetry.influx.client import InfluxClient


@pytest.fixture
def now_s() -> int:
    return int(time.time()) - 60


@pytest.fixture
def held(influx, monkeypatch):
    """The write of site s0's batch waits, after InfluxDB has answered it, until
    ``release`` is set: batches that arrive meanwhile queue behind it. ``calls``: the
    writes from then on."""
    real = InfluxClient.write_lines
    entered, release = threading.Event(), threading.Event()
    calls = []

    def held(self, body, **kwargs):
        first = not calls and "site=s0 " in (body if isinstance(body, str) else body.decode())
        if calls or first:
            calls.append(body)
        real(self, body, **kwargs)
        if first:
            entered.set()
            release.wait(10)

    monkeypatch.setattr(InfluxClient, "write_lines", held)
    return entered, release, calls


def during_a_write(writer: WritesTogether, held, now_s: int, batches: list[tuple[str, str]]) -> list[bool]:
    """Site s0's batch is written first and held; ``batches`` (line, precision) arrive
    while it is, and the write is let go once they all wait. Every answer, s0's first."""
    entered, release, _ = held
    with ThreadPoolExecutor(max_workers=len(batches) + 1) as pool:
        first = pool.submit(writer.write, f"rack,asset=a,site=s0 power_kw=0 {now_s}".encode(), "s")
        assert entered.wait(10)
        rest = [pool.submit(writer.write, line.encode(), precision) for line, precision in batches]
        deadline = time.monotonic() + 10
        while len(writer._waiting) < len(batches):
            assert time.monotonic() < deadline, "the batches never all waited"
            time.sleep(0.005)
        release.set()
        return [first.result(10), *(f.result(10) for f in rest)]


def rack_power(influx) -> dict[str, list[float]]:
    series = influx.select('SELECT power_kw FROM rack GROUP BY "site"')
    return {s.tags["site"]: [row[1] for row in s.values] for s in series}


def test_batches_arriving_during_a_write_are_stored_by_the_next_one_write(influx, held, now_s):
    writer = WritesTogether()
    batches = [(f"rack,asset=a,site=s{n} power_kw={n} {now_s}\n", "s") for n in range(1, 6)]

    assert during_a_write(writer, held, now_s, batches) == [True] * 6
    assert len(held[2]) == writer.writes == 2  # the first alone, the five that waited together
    assert rack_power(influx) == {f"s{n}": [float(n)] for n in range(6)}


def test_a_refused_line_fails_only_the_write_it_was_in_and_the_next_write_goes_ahead(influx, held, now_s):
    influx.write_lines(f"rack,asset=a,site=s9 power_kw=1 {now_s - 10}", precision="s")  # a float field
    writer = WritesTogether()
    batches = [
        (f"rack,asset=a,site=s1 power_kw=1 {now_s}", "s"),
        (f'rack,asset=a,site=s2 power_kw="high" {now_s}', "s"),
    ]

    assert during_a_write(writer, held, now_s, batches) == [True, False, False]  # both callers spool
    assert writer.write(f"rack,asset=a,site=s3 power_kw=3 {now_s}".encode(), "s") is True
    assert "s3" in rack_power(influx)


def test_each_precision_is_written_apart(influx, held, now_s):
    writer = WritesTogether()
    batches = [
        (f"rack,asset=a,site=s1 power_kw=1 {now_s}", "s"),
        (f"rack,asset=a,site=s2 power_kw=2 {now_s * 1000}", "ms"),
    ]

    assert during_a_write(writer, held, now_s, batches) == [True, True, True]
    assert writer.writes == 3
    series = influx.select('SELECT power_kw FROM rack GROUP BY "site"')
    assert len({s.values[0][0] for s in series}) == 1  # every point at now_s, whatever its precision


def test_a_group_stays_under_the_write_size(influx, held, now_s, monkeypatch):
    batches = [(f"rack,asset=a,site=s{n} power_kw={n} {now_s}", "s") for n in range(1, 5)]
    monkeypatch.setattr(together, "MAX_WRITE_BYTES", len(batches[0][0]) * 2 + 1)
    writer = WritesTogether()

    assert during_a_write(writer, held, now_s, batches) == [True] * 5
    assert writer.writes == 3  # the first, then two groups of two
    assert len(rack_power(influx)) == 5
