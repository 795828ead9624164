"""The monthly performance figures, computed inside InfluxDB.

InfluxDB answers with one row per local hour and series (plain ``GROUP BY time(1h)
fill(none)`` aggregates over raw points, the cheapest read it offers): each power's mean,
point counts, a register's last and lowest reading. Everything else is arithmetic on those
rows, at most 745 per series a month (here and in figures.py), except around gaps, resets
and partly covered ratios, which are read again point by point, per bucket:

- A series' *expected interval* is an hour over its most common hourly point count (10 s
  for 360). Consecutive points further apart than the *maximum gap* (six expected
  intervals, and half an interval's grace for jittery timestamps: 65 s at 10 s) are a gap.
- Energy is the trapezoid integral between consecutive points no further apart than the
  maximum gap; a gap adds nothing and is not covered. An hour is *clean* when no gap can
  touch it: its missing points plus either neighbour's are fewer than six. A clean hour is
  covered whole and its energy is its mean power x the hour (with no gap that is the
  integral of its points, to within a sample's share at its edges, which cancel from hour
  to hour). Other hours are read per bucket: each interval's area and length
  (``moving_average() * elapsed()``), kept where no longer than the maximum gap.
- A heat meter's register counts through a gap, so its increase between consecutive
  readings, however far apart, is heat delivered in between; a drop is a restart from zero
  (EN 1434), so the increase is the new reading. A clean hour's increase is its last
  reading less the one before; around gaps and drops the intervals are read per bucket,
  and one longer than the maximum gap is spread evenly over its time. The readings either
  side of the period (up to 35 days away) bridge its edges. Coverage is the time bracketed
  by readings.
- Samples that count (pump running, heat called for, compute up) are shares of the samples
  received, over the time the series covers.
- The SLA needs demand and supply temperature at the same moments, and InfluxQL cannot
  join two measurements. Hours the counts decide are settled from the hourly rows; only the
  others are read per bucket and joined here.

All sites and periods asked for are read in at most three requests: the hourly rows and the
registers' edges (one statement per measurement for every site sharing a period); the
point-level reads, the primary loop for sites whose meter has no supply temperature, and
the SLA buckets of the others; then the SLA buckets of the sites on the primary loop.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from apps.telemetry.influx.client import InfluxClient

from .finereads import point_level, spread_events
from .hourly import hourly_plan
from .jobs import HOUR_MS, Job, Source
from .plans import run_plan
from .sla import fallback_to_loop, settle_sla, sla_by_bucket, supply_counts

__all__ = ["HOUR_MS", "Job", "Source", "collect"]


def collect(jobs: Sequence[Job], *, client: InfluxClient) -> list[str]:
    """Fill every job from InfluxDB: at most three requests for all of them. Returns the
    requests' statements (the benchmark replays them bare)."""
    groups: dict[tuple, list[Job]] = defaultdict(list)
    for job in jobs:
        groups[(job.period.start_utc, job.period.stop_utc, job.period.offset_s)].append(job)
    sent = [run_plan(client, [step for group in groups.values() for step in hourly_plan(group)])]
    second, later = [], []
    for job in jobs:
        supply_counts(job)
        second += point_level(job)
        if any(job.count("supply", t) for t in job.hours):
            second += sla_by_bucket(job, settle_sla(job))
        else:
            second += fallback_to_loop(job)
            later.append(job)
    sent.append(run_plan(client, second))
    third = []
    for job in later:
        third += sla_by_bucket(job, settle_sla(job))
    sent.append(run_plan(client, third))
    for job in jobs:
        spread_events(job)
    return [s for s in sent if s]
