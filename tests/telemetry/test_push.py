"""The hand-over of ingested batches to the pump, on a real Redis: bounded by bytes."""

import time

import redis
from django.conf import settings

from apps.telemetry.pump import TelemetryPump
from apps.telemetry.push import PushedPoints, push_accepted, push_key


def _held() -> list[bytes]:
    return redis.Redis.from_url(settings.REDIS_URL).lrange(push_key(), 0, -1)


def _batch(n: int, size: int = 100) -> bytes:
    line = f"facility,site=pool it_power_kw={n}i {1_700_000_000_000 + n}".encode()
    return line + b" " * (size - len(line))  # trailing spaces: padding to a known size


def test_while_no_pump_takes_them_the_oldest_batches_go_first_within_the_byte_cap(settings):
    settings.HEATOPS_PUSH_MAX_BYTES = 1000
    for n in range(25):
        push_accepted(_batch(n), precision="ms")
    held = _held()
    assert sum(len(b) for b in held) <= 1000
    assert held == [b"ms " + _batch(n) for n in range(16, 25)]  # 103 bytes each: 9 fit


def test_a_batch_over_the_whole_cap_is_not_pushed_and_drops_nothing(settings):
    settings.HEATOPS_PUSH_MAX_BYTES = 1000
    push_accepted(_batch(1), precision="ms")
    push_accepted(_batch(2, size=2000), precision="ms")
    assert _held() == [b"ms " + _batch(1)]


def test_the_pump_takes_everything_and_the_count_starts_again(settings):
    settings.HEATOPS_PUSH_MAX_BYTES = 1000
    for n in range(5):
        push_accepted(_batch(n), precision="ms")
    taken = PushedPoints(max_wait_s=0.1).wait(0.1)
    assert taken == [b"ms " + _batch(n) for n in range(5)]
    assert _held() == []
    # the byte count was emptied with the list: a full cap's worth fits again
    for n in range(9):
        push_accepted(_batch(n), precision="ms")
    assert len(_held()) == 9


def test_a_byte_count_left_behind_by_a_lost_list_corrects_itself(settings):
    settings.HEATOPS_PUSH_MAX_BYTES = 1000
    for n in range(9):
        push_accepted(_batch(n), precision="ms")
    redis.Redis.from_url(settings.REDIS_URL).delete(push_key())  # e.g. evicted; the count stays
    push_accepted(_batch(20), precision="ms")
    push_accepted(_batch(21), precision="ms")
    assert _held() == [b"ms " + _batch(20), b"ms " + _batch(21)]


def test_a_pump_whose_ticks_run_late_still_takes_pushed_points_between_them(influx, now):
    """Ticks that take longer than the cadence leave no time to wait for pushes: the pump
    takes what waits anyway, so pushed points do not wait for the next read."""
    taken: list[set[str]] = []

    def slow_tick(snapshot):
        time.sleep(0.05)  # longer than the 10 ms cadence: every tick is late

    pump = TelemetryPump(
        client=influx, handlers=[slow_tick], push_handlers=[lambda s: taken.append(s.changed)]
    )
    t_ms = int(now.timestamp() * 1000)
    push_accepted(f"facility,site=pool it_power_kw=12.5 {t_ms}".encode(), precision="ms")
    pump.run(tick_s=0.01, max_ticks=3)

    assert taken == [{"pool"}]
    assert pump.state["pool"].value("facility", "it_power_kw") == 12.5
