"""Evaluation cost per tick as alarm rules grow: judging every rule on one snapshot.

In-process, no services: synthetic sites with the series a real site has, rules of every
kind spread over them, the Evaluator called as the pump's handler calls it each tick.
CPU time (process_time) per tick, median of many ticks.
"""

from __future__ import annotations

import os
import random
import time

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "heatops.settings.dev")
django.setup()

from apps.alarms.choices import RuleKind  # noqa: E402
from apps.alarms.evaluation import Evaluator  # noqa: E402
from apps.alarms.models import AlarmRule  # noqa: E402
from apps.sites.models import Site  # noqa: E402
from apps.telemetry.influx.results import Reading  # noqa: E402
from apps.telemetry.live import SiteReadings, Snapshot, series_key  # noqa: E402

SITES = 20


def snapshot(t_s: float, rng: random.Random) -> Snapshot:
    snap = Snapshot(taken_at=None, influx_ok=True)  # taken_at unused by the evaluator
    for n in range(SITES):
        slug = f"site-{n:02d}"
        r = SiteReadings(slug)
        series = [
            ("facility", {}, {"it_power_kw": rng.uniform(40, 60), "total_power_kw": 65.0}),
            (
                "loop",
                {"loop": "primary"},
                {
                    "supply_temp_c": rng.uniform(45, 55),
                    "return_temp_c": 40.0,
                    "delta_t_k": 9.0,
                    "flow_m3h": rng.uniform(3, 6),
                },
            ),
            ("tank", {"asset": "tank-1"}, {"soc_pct": rng.uniform(40, 99)}),
            ("consumer", {}, {"demand_kw": 50.0, "delivered_kw": 49.0, "online": True}),
            ("pump", {"asset": "pump-primary"}, {"running": True, "speed_pct": 60.0}),
            *[
                ("rack", {"asset": f"rack-{i}"}, {"power_kw": 20.0, "inlet_temp_c": rng.uniform(35, 46)})
                for i in range(4)
            ],
            *[
                (
                    "node",
                    {"asset": f"node-{i}"},
                    {"power_kw": 5.0, "utilisation_pct": 60.0, "inlet_temp_c": 38.0},
                )
                for i in range(16)
            ],
        ]
        for measurement, tags, fields in series:
            tags = {"site": slug, **tags}
            r.series[series_key(measurement, tags)] = Reading(measurement, tags, int(t_s * 1000), fields)
        snap.sites[slug] = r
    return snap


KINDS = [
    dict(
        kind=RuleKind.ABOVE,
        measurement="loop",
        field="supply_temp_c",
        tags={"loop": "primary"},
        threshold=54,
        clear_at=52,
    ),
    dict(
        kind=RuleKind.BELOW,
        measurement="loop",
        field="flow_m3h",
        tags={"loop": "primary"},
        threshold=3.2,
        for_seconds=20,
    ),
    dict(
        kind=RuleKind.ABOVE, measurement="rack", field="inlet_temp_c", tags={"asset": "rack-1"}, threshold=45
    ),
    dict(kind=RuleKind.RATE, measurement="tank", field="soc_pct", tags={}, rate_per_min=5, rate_window_s=60),
    dict(kind=RuleKind.STALE, measurement="facility", field="it_power_kw", stale_after_s=120),
    dict(
        kind=RuleKind.BAND,
        measurement="loop",
        field="delta_t_k",
        tags={"loop": "primary"},
        band_low=2,
        band_high=15,
        conditions=[
            {"measurement": "loop", "field": "flow_m3h", "tags": {"loop": "primary"}, "op": ">", "value": 0.5}
        ],
    ),
    dict(
        kind=RuleKind.COMPOUND,
        rate_window_s=60,
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
    ),
]


def rules(count: int) -> list[AlarmRule]:
    sites = [Site(pk=n + 1, slug=f"site-{n:02d}", name=f"Site {n}") for n in range(SITES)]
    out = []
    for i in range(count):
        spec = dict(KINDS[i % len(KINDS)])
        spec.setdefault("tags", {})
        out.append(
            AlarmRule(
                pk=i + 1,
                site=sites[i % SITES],
                name=f"r{i}",
                severity="major",
                domain="thermal",
                meaning="m",
                **spec,
            )
        )
    return out


def cpu_per_tick_ms(count: int, ticks: int = 30) -> float:
    rng = random.Random(5)
    evaluator, ruleset = Evaluator(stale_after_s=30), rules(count)
    samples = []
    t = 1_800_000_000.0
    for _ in range(ticks + 5):
        snap = snapshot(t, rng)
        started = time.process_time()
        for rule in ruleset:
            evaluator.judge(rule, snap.site(rule.site.slug), t)
        samples.append((time.process_time() - started) * 1000)
        t += 1
    samples = sorted(samples[5:])
    return samples[len(samples) // 2]
