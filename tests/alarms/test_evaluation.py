"""Every rule kind's edges, with a controlled clock: the evaluator judges snapshots."""

from __future__ import annotations

import pytest

from apps.alarms.choices import RuleKind
from apps.alarms.evaluation import Evaluator
from apps.alarms.models import AlarmRule
from apps.telemetry.influx.results import Reading
from apps.telemetry.live import SiteReadings, series_key

T0 = 1_800_000_000.0


def readings(t: float, **series) -> SiteReadings:
    """series: measurement -> fields, or (tags, fields)."""
    r = SiteReadings("pool")
    for measurement, spec in series.items():
        tags, fields = spec if isinstance(spec, tuple) else ({}, spec)
        tags = {"site": "pool", **tags}
        r.series[series_key(measurement, tags)] = Reading(measurement, tags, int(t * 1000), fields)
    return r


def rule(pk=1, **kw) -> AlarmRule:
    return AlarmRule(pk=pk, site_id=1, name="r", severity="major", domain="thermal", meaning="m", **kw)


_C = {"measurement": "loop", "field": "flow_m3h", "op": ">", "value": 1}


def run(evaluator, r, steps):
    """steps: (seconds after T0, snapshot fields) -> list of active flags."""
    return [evaluator.judge(r, readings(T0 + s, **fields), T0 + s).active for s, fields in steps]


def test_above_with_hysteresis_raises_past_the_threshold_and_clears_only_past_clear_at():
    r = rule(
        kind=RuleKind.ABOVE,
        measurement="loop",
        field="supply_temp_c",
        tags={"loop": "primary"},
        threshold=60,
        clear_at=57,
    )
    loop = lambda v: {"loop": ({"loop": "primary"}, {"supply_temp_c": v})}  # noqa: E731
    flags = run(
        Evaluator(stale_after_s=30),
        r,
        [
            (0, loop(59.9)),
            (1, loop(60.0)),
            (2, loop(60.1)),
            (3, loop(58)),
            (4, loop(57.1)),
            (5, loop(57.0)),
            (6, loop(59.9)),
            (7, loop(60.5)),
        ],
    )
    assert flags == [False, False, True, True, True, False, False, True]


def test_for_seconds_holds_the_alarm_back_and_an_interruption_starts_again():
    r = rule(
        kind=RuleKind.BELOW,
        measurement="loop",
        field="flow_m3h",
        tags={"loop": "primary"},
        threshold=1.5,
        for_seconds=30,
    )
    loop = lambda v: {"loop": ({"loop": "primary"}, {"flow_m3h": v})}  # noqa: E731
    flags = run(
        Evaluator(stale_after_s=30),
        r,
        [
            (0, loop(0.0)),
            (29, loop(0.0)),
            (30, loop(2.0)),  # interrupted
            (31, loop(0.0)),
            (60, loop(0.0)),
            (61, loop(0.0)),
        ],
    )
    assert flags == [False, False, False, False, False, True]


def test_rate_of_change_fires_on_a_fast_rise_measured_over_its_window():
    r = rule(
        kind=RuleKind.RATE,
        measurement="loop",
        field="return_temp_c",
        tags={"loop": "primary"},
        rate_per_min=1.0,
        rate_window_s=120,
    )
    ev = Evaluator(stale_after_s=30)
    slow = [(s, {"loop": ({"loop": "primary"}, {"return_temp_c": 40 + s / 120})}) for s in range(0, 241, 10)]
    assert set(run(ev, r, slow)[4:]) == {False}  # 0.5 K/min
    fast = [
        (s, {"loop": ({"loop": "primary"}, {"return_temp_c": 42 + (s - 250) / 30})})
        for s in range(250, 500, 10)
    ]
    assert run(ev, r, fast)[-1] is True  # 2 K/min


def test_stale_or_missing_data_raises_a_stale_rule():
    r = rule(kind=RuleKind.STALE, measurement="facility", field="it_power_kw", stale_after_s=120)
    ev = Evaluator(stale_after_s=30)
    assert ev.judge(r, SiteReadings("pool"), T0).active is True
    fresh = readings(T0, facility={"it_power_kw": 50.0})
    assert ev.judge(r, fresh, T0 + 119).active is False
    assert ev.judge(r, fresh, T0 + 121).active is True


def test_a_stale_reading_is_never_judged_by_a_threshold_rule():
    r = rule(kind=RuleKind.ABOVE, measurement="facility", field="it_power_kw", threshold=10)
    ev = Evaluator(stale_after_s=30)
    assert ev.judge(r, readings(T0, facility={"it_power_kw": 99.0}), T0 + 31).active is None


def test_band_fires_only_while_its_condition_holds():
    r = rule(
        kind=RuleKind.BAND,
        measurement="loop",
        field="delta_t_k",
        tags={"loop": "primary"},
        band_low=2,
        band_high=15,
        conditions=[
            {"measurement": "loop", "field": "flow_m3h", "tags": {"loop": "primary"}, "op": ">", "value": 0.5}
        ],
    )
    ev = Evaluator(stale_after_s=30)
    loop = lambda dt, flow: {"loop": ({"loop": "primary"}, {"delta_t_k": dt, "flow_m3h": flow})}  # noqa: E731
    assert run(
        ev, r, [(0, loop(0.5, 0.0)), (1, loop(0.5, 3.0)), (2, loop(8.0, 3.0)), (3, loop(16.0, 3.0))]
    ) == [False, True, False, True]


def test_compound_rule_joins_it_and_thermal_signals():
    r = rule(
        kind=RuleKind.COMPOUND,
        rate_window_s=120,
        conditions=[
            {
                "measurement": "loop",
                "field": "return_temp_c",
                "tags": {"loop": "primary"},
                "op": "rising",
                "value": 0.2,
            },
            {"measurement": "tank", "field": "soc_pct", "tags": {}, "op": ">=", "value": 95},
            {"measurement": "facility", "field": "it_power_kw", "tags": {}, "op": "steady", "value": 2.0},
        ],
    )
    ev = Evaluator(stale_after_s=30)

    def snap(s, soc):
        return {
            "loop": ({"loop": "primary"}, {"return_temp_c": 40 + s / 60}),
            "tank": ({"asset": "tank-1"}, {"soc_pct": soc}),
            "facility": {"it_power_kw": 60.0},
        }

    flags = run(
        ev, r, [(s, snap(s, 90)) for s in range(0, 121, 10)] + [(s, snap(s, 96)) for s in range(130, 200, 10)]
    )
    assert flags[:2] == [None, None]  # rates need a little history first
    assert set(flags[6:13]) == {False}  # return rising 1 K/min but tank at 90 %
    assert flags[-1] is True
    # the alarm says which values made it, not just that "all conditions hold"
    detail = ev.judge(r, readings(T0 + 200, **snap(200, 96)), T0 + 200).detail
    assert detail == (
        "loop.return_temp_c rising +1.00/min (over 0.2/min); tank.soc_pct = 96 (>= 95); "
        "facility.it_power_kw steady +0.00/min (within ±2/min)"
    )


@pytest.mark.parametrize(
    ("kind", "kw", "field", "message"),
    [
        (
            RuleKind.ABOVE,
            {"measurement": "loop", "field": "supply_temp_c"},
            "threshold",
            "needs its threshold",
        ),
        (
            RuleKind.ABOVE,
            {"measurement": "loop", "field": "supply_temp_c", "threshold": 60, "clear_at": 65},
            "clear_at",
            "come back at or below",
        ),
        (
            RuleKind.BELOW,
            {"measurement": "loop", "field": "flow", "threshold": 1},
            "field",
            "not a field of loop",
        ),
        (
            RuleKind.COMPOUND,
            {"conditions": [{"measurement": "loop", "field": "flow_m3h", "op": "~", "value": 1}]},
            "conditions",
            "op must be one of",
        ),
        (
            RuleKind.COMPOUND,
            {
                "conditions": [
                    _C,
                    _C,
                    {"unless": [{"measurement": "dry_cooler", "field": "open", "op": ">", "value": 0}]},
                ]
            },
            "conditions",
            "Condition 3.1: 'open' is not a field of dry_cooler",
        ),
        (
            RuleKind.COMPOUND,
            {"conditions": [_C, {"unless": [_C]}]},  # an unless does not count as a condition
            "conditions",
            "needs at least two conditions",
        ),
    ],
)
def test_rules_that_cannot_work_are_refused_with_the_reason(kind, kw, field, message, db):
    from django.core.exceptions import ValidationError

    from tests.factories import make_site

    r = AlarmRule(
        site=make_site(), name="x", kind=kind, severity="major", domain="thermal", meaning="m", **kw
    )
    with pytest.raises(ValidationError) as info:
        r.full_clean()
    assert message in " ".join(info.value.message_dict[field])
