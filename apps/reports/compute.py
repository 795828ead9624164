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

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from apps.sites.models import Site
from apps.telemetry.influx.client import InfluxClient
from apps.telemetry.influx.results import Series
from apps.telemetry.influx.statements import (
    edge_statement,
    hourly_statement,
    interval_statement,
    rollup_statement,
)

from . import conf
from .periods import Period

HOUR_MS = 3_600_000
MS = timedelta(milliseconds=1)
LOOKBACK = timedelta(days=35)  # how far a register's reading either side of the period may be
DIVISORS_OF_AN_HOUR = [d for d in range(1, 3601) if 3600 % d == 0]


def nominal(counts: Iterable[int]) -> int:
    """The most common positive hourly count (the larger on a tie)."""
    tally = Counter(c for c in counts if c > 0)
    if not tally:
        return 0
    return max(tally.items(), key=lambda kv: (kv[1], kv[0]))[0]


def gap_intervals() -> int:
    return int(conf.number("HEATOPS_REPORT_MAX_GAP"))


@dataclass(frozen=True)
class Source:
    """One series a figure integrates or counts, and where its hourly rows are."""

    name: str  # unique within the job: it, total, meter:<asset>, register:<asset>, pump:<asset>
    key: str  # the hourly rows' key
    count: str  # the hourly rows' column counting its points
    measurement: str
    field: str
    kind: str  # power, register or state
    tags: tuple[tuple[str, str], ...]
    energy: str = ""  # the hourly rows' column with its mean (power)


@dataclass
class Job:
    """One site over one period, and what InfluxDB said about it."""

    site: Site
    period: Period
    hours: list[int] = field(default_factory=list)  # local hour starts, epoch ms
    rows: dict[str, dict[int, dict]] = field(
        default_factory=lambda: defaultdict(dict)
    )  # series -> hour -> row (the hours either side of the period too)
    edges: dict[str, dict[str, tuple[int, float]]] = field(
        default_factory=lambda: defaultdict(dict)
    )  # register -> before/first/last/after -> (ms, reading)
    fine: dict[str, dict[int, dict[int, list[float]]]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(dict))
    )  # source -> hour -> bucket start -> [energy or increase, covered ms]
    fine_hours: dict[str, set[int]] = field(default_factory=dict)  # source -> hours read per bucket
    events: dict[str, dict[int, tuple[float, int, bool]]] = field(
        default_factory=lambda: defaultdict(dict)
    )  # register -> end ms -> (increase, ms, a drop?): drops and intervals longer than the gap
    sla: dict[int, list[float]] = field(default_factory=dict)  # hour -> [called s, in band s, joint s]
    sla_source: str = "heat_meter"
    resets: int = 0
    fine_bucket_s: int = 0

    def __post_init__(self) -> None:
        start_ms = int(self.period.start_utc.timestamp() * 1000)
        end_ms = int(self.period.stop_utc.timestamp() * 1000)  # now, in a month in progress
        self.hours = list(range(start_ms, end_ms, HOUR_MS))
        self.start_ms, self.end_ms = start_ms, end_ms
        self._nominal: dict[tuple, int] = {}
        self._unclean: dict[str, set[int]] = {}
        self._sources: dict[str, Source] | None = None
        self.gap_intervals = gap_intervals()  # the setting, read once
        self._hour_figures = None  # figures.hour_figures(), once computed

    # hourly rows ------------------------------------------------------------------------

    def length_s(self, t: int) -> float:
        return min(HOUR_MS, self.end_ms - t) / 1000

    def series(self, prefix: str) -> list[str]:
        return sorted(k for k in self.rows if k.startswith(prefix))

    def value(self, key: str, t: int, column: str, default=None):
        return self.rows.get(key, {}).get(t, {}).get(column, default)

    def count(self, key: str, t: int, column: str = "n") -> int:
        return self.rows.get(key, {}).get(t, {}).get(column) or 0

    def nominal(self, key: str, column: str = "n") -> int:
        rows = self.rows.get(key, {})
        memo = (key, column, len(rows))  # rows only grow while InfluxDB answers
        if memo not in self._nominal:
            self._nominal[memo] = nominal(row.get(column) or 0 for row in rows.values())
        return self._nominal[memo]

    def hour_of(self, t_ms: int) -> int:
        return self.start_ms + (t_ms - self.start_ms) // HOUR_MS * HOUR_MS

    # the gap rule -----------------------------------------------------------------------

    def interval_ms(self, key: str, column: str = "n") -> float:
        nom = self.nominal(key, column)
        return HOUR_MS / nom if nom else 0.0

    def max_gap_ms(self, src: Source) -> int:
        return int((self.gap_intervals + 0.5) * self.interval_ms(src.key, src.count))

    def clean(self, key: str, column: str, t: int) -> bool:
        """No gap can touch the hour: it has points, and its missing points plus either
        neighbour's are fewer than the gap's intervals. (Neighbours outside the period do
        not count: a gap there touches the period by less than the gap's length.)"""
        nom = self.nominal(key, column)
        if not nom or not self.count(key, t, column):
            return False
        missing = [
            0 if h < self.start_ms or h >= self.end_ms else max(0, nom - self.count(key, h, column))
            for h in (t - HOUR_MS, t, t + HOUR_MS)
        ]
        limit = self.gap_intervals
        return missing[0] + missing[1] < limit and missing[1] + missing[2] < limit

    def empty(self, src: Source, t: int) -> bool:
        """The hour is a gap of its own: no points in a series sampled several times an hour
        (never a register's: it counts through a gap)."""
        if src.kind == "register":
            return False
        return (
            not self.count(src.key, t, src.count) and self.nominal(src.key, src.count) >= self.gap_intervals
        )

    def unclean(self, src: Source) -> set[int]:
        """The period's hours of ``src`` read per bucket: not clean, or (a register) with a
        drop (its lowest reading below the reading before it), or the first hour when the
        period starts inside a gap of the register."""
        if src.name not in self._unclean:
            hours = {t for t in self.hours if not self.clean(src.key, src.count, t)}
            if src.kind == "register":
                previous = self.edges[src.name].get("before")
                if self.hours and previous and previous[0] < self.start_ms - self.max_gap_ms(src):
                    hours.add(self.hours[0])  # the period starts inside a gap of the register
                for t in self.hours:
                    low = self.value(src.key, t, "e_min")
                    if low is not None and previous is not None and low < previous[1]:
                        hours.add(t)
                    last = self.value(src.key, t, "e")
                    if last is not None:
                        previous = (t, last)
            self._unclean[src.name] = hours
        return self._unclean[src.name]

    # what the sources give per hour --------------------------------------------------------

    def cells(self, src: Source, t: int) -> list[tuple[int, float, float]]:
        """(start ms, amount, covered s) per bucket of an hour read per bucket, or one for
        the whole hour: energy (kWh) or a register's increase, and the time it covers."""
        length = self.length_s(t)
        if t in self.fine_hours.get(src.name, ()):
            out = []
            size = length * 1000 if src.kind == "state" else self.fine_bucket_s * 1000
            for b, (amount, covered_ms) in sorted(self.fine[src.name].get(t, {}).items()):
                span = min(size, self.end_ms - b)
                if src.kind == "register":
                    covered_ms = self.bracketed_ms(src, b, b + span)
                out.append((b, amount, min(covered_ms, span) / 1000))
            return out
        if src.kind == "register":
            return [(t, self.register_increase(src, t), self.bracketed_ms(src, t, t + length * 1000) / 1000)]
        if src.kind == "power":  # mean power x the hour: no gap, so the points' integral
            return [(t, (self.value(src.key, t, src.energy) or 0.0) * length / 3600, length)]
        return [(t, 0.0, length)]

    def amount(self, src: Source, t: int) -> float:
        return sum(c[1] for c in self.cells(src, t))

    def covered_s(self, src: Source, t: int) -> float:
        return min(self.length_s(t), sum(c[2] for c in self.cells(src, t)))

    def register_increase(self, src: Source, t: int) -> float:
        """A clean hour's increase: its last reading less the one before."""
        last = self.value(src.key, t, "e")
        if last is None:
            return 0.0
        for h in range(t - HOUR_MS, t - 3 * HOUR_MS, -HOUR_MS):
            before = self.value(src.key, h, "e")
            if before is not None:
                return last - before
        edges = self.edges[src.name]
        before = edges.get("before") or edges.get("first")  # (without one: from the first reading)
        return last - before[1] if before else 0.0

    def bracketed_ms(self, src: Source, a: int, b: int) -> int:
        """Of [a, b), the time between the register's first and last readings (the period's
        edges, where there are readings beyond them)."""
        edges = self.edges[src.name]
        lo = self.start_ms if "before" in edges else edges.get("first", (None,))[0]
        hi = self.end_ms if "after" in edges else edges.get("last", (None,))[0]
        if lo is None or hi is None:
            return 0
        return max(0, min(b, hi) - max(a, lo))

    def bucket_s(self, *keys: str) -> int:
        """Bucket for bucket-level reads: at least the setting and the sample interval."""
        floor = conf.bucket_seconds()
        for key in keys:
            key, _, column = key.partition("|")
            nom = self.nominal(key, column or "n")
            if nom:
                floor = max(floor, 3600 / nom)
        return next(d for d in DIVISORS_OF_AN_HOUR if d >= floor)

    # the job's sources ----------------------------------------------------------------------

    def sources(self) -> dict[str, Source]:
        """The series with points in or beside the period (known once the hourly rows are in)."""
        if self._sources is not None:
            return self._sources
        site = (("site", self.site.slug),)
        out = {}
        if self.nominal("facility", "n"):
            out["it"] = Source("it", "facility", "n", "facility", "it_power_kw", "power", site, "it")
        if self.nominal("facility", "tot_n"):
            out["total"] = Source(
                "total", "facility", "tot_n", "facility", "total_power_kw", "power", site, "tot"
            )
        for key in self.series("meter:"):
            asset = key.split(":", 1)[1]
            tags = (*site, ("asset", asset))
            if self.nominal(key, "n"):
                out[key] = Source(key, key, "n", "heat_meter", "power_kw", "power", tags, "p")
            if self.nominal(key, "e_n"):
                reg = f"register:{asset}"
                out[reg] = Source(reg, key, "e_n", "heat_meter", "energy_kwh", "register", tags)
        for key in self.series("pump:"):
            if self.nominal(key, "n"):
                tags = (*site, ("asset", key.split(":", 1)[1]))
                out[key] = Source(key, key, "n", "pump", "running", "state", tags)
        self._sources = out
        return out

    def heat_sources(self) -> list[Source]:
        """The registers, or failing them the meters' power."""
        sources = self.sources().values()
        registers = [s for s in sources if s.kind == "register"]
        return registers or [s for s in sources if s.kind == "power" and s.key.startswith("meter:")]

    def ratio_inputs(self) -> dict[str, list[Source]]:
        """The ratios' inputs: IT, the facility total, heat (its sources together)."""
        sources = self.sources()
        return {
            "it": [sources["it"]] if "it" in sources else [],
            "total": [sources["total"]] if "total" in sources else [],
            "heat": self.heat_sources(),
        }


# --- the queries --------------------------------------------------------------------------


def _rows(result: list[Series]) -> Iterable[tuple[dict, dict]]:
    for series in result:
        for row in series.rows():
            yield series.tags, row


def _store(by_site: dict[str, Job], key: str, *, per_asset: bool = False):
    """A handler filing each hourly row under its job and series key (a window that starts a
    millisecond past the hour is that hour's)."""

    def handle(result):
        for tags, row in _rows(result):
            job = by_site.get(tags.get("site"))
            if job is None:
                continue
            name = f"{key}:{tags.get('asset', '')}" if per_asset else key
            slot = job.rows[name].setdefault(job.hour_of(row["time"]), {})
            for column, value in row.items():
                if column != "time" and value is not None:
                    slot[column] = slot.get(column, 0) + value if column.endswith("_n") else value

    return handle


def _store_edge(by_site: dict[str, Job], which: str):
    def handle(result):
        for tags, row in _rows(result):
            job = by_site.get(tags.get("site"))
            if job is not None and row.get("energy_kwh") is not None:
                job.edges[f"register:{tags.get('asset', '')}"][which] = (row["time"], row["energy_kwh"])

    return handle


def _phase1(jobs: list[Job]) -> list[tuple]:
    """(statement, handler) pairs for the hourly rows of jobs sharing a period, and the
    registers' readings either side of it."""
    period = jobs[0].period
    by_site = {j.site.slug: j for j in jobs}
    start, end = period.start_utc, period.stop_utc
    common = {"offset_s": period.offset_s, "tags_any": {"site": sorted(by_site)}}
    narrow = {**common, "start": start, "end": end}
    site_g, asset_g = {"group_by": ["site"]}, {"group_by": ["site", "asset"]}
    it_on = conf.number("HEATOPS_REPORT_IT_ON_KW")
    demand_on = conf.number("HEATOPS_REPORT_DEMAND_ON_KW")

    def edge(which: str, start_: datetime, end_: datetime, latest: bool) -> tuple:
        statement = edge_statement(
            measurement="heat_meter",
            field="energy_kwh",
            start=start_,
            end=end_,
            latest=latest,
            tags_any=common["tags_any"],
            group_by=["site", "asset"],
        )
        return statement, _store_edge(by_site, which)

    plan = [
        (
            hourly_statement(
                measurement="facility",
                calls={
                    "it": ("mean", "it_power_kw"),
                    "n": ("count", "it_power_kw"),
                    "tot": ("mean", "total_power_kw"),
                    "tot_n": ("count", "total_power_kw"),
                },
                **narrow,
                **site_g,
            ),
            _store(by_site, "facility"),
        ),
        (
            hourly_statement(
                measurement="facility",
                calls={"up_n": ("count", "it_power_kw")},
                where=[("it_power_kw", ">", it_on)],
                **narrow,
                **site_g,
            ),
            _store(by_site, "facility"),
        ),
        (  # a meter reading exactly on the hour closes the hour before: windows start 1 ms past
            hourly_statement(
                measurement="heat_meter",
                calls={
                    "p": ("mean", "power_kw"),
                    "n": ("count", "power_kw"),
                    "s_n": ("count", "supply_temp_c"),
                    "e": ("last", "energy_kwh"),
                    "e_min": ("min", "energy_kwh"),
                    "e_n": ("count", "energy_kwh"),
                },
                offset_ms=1,
                **{**narrow, "start": start + MS, "end": end + MS},
                **asset_g,
            ),
            _store(by_site, "meter", per_asset=True),
        ),
        edge("before", start - LOOKBACK, start + MS, latest=True),
        edge("first", start + MS, end + MS, latest=False),
        edge("last", start + MS, end + MS, latest=True),
        edge("after", end, end + LOOKBACK, latest=False),
        (
            hourly_statement(measurement="consumer", calls={"n": ("count", "demand_kw")}, **narrow, **site_g),
            _store(by_site, "demand"),
        ),
        (
            hourly_statement(
                measurement="consumer",
                calls={"on_n": ("count", "demand_kw")},
                where=[("demand_kw", ">", demand_on)],
                **narrow,
                **site_g,
            ),
            _store(by_site, "demand"),
        ),
        (
            hourly_statement(measurement="pump", calls={"n": ("count", "running")}, **narrow, **asset_g),
            _store(by_site, "pump", per_asset=True),
        ),
        (
            hourly_statement(
                measurement="pump",
                calls={"run_n": ("count", "running")},
                where=[("running", "=", True)],
                **narrow,
                **asset_g,
            ),
            _store(by_site, "pump", per_asset=True),
        ),
    ]
    for job in jobs:  # the band is each site's own
        plan.append((_out_of_band(job, "heat_meter", {}, offset_ms=1), _store(by_site, "supply")))
    return plan


def _out_of_band(job: Job, measurement: str, tags: dict, offset_ms: int = 0) -> str:
    """Supply temperatures outside the band, per hour (windows as the counts they go with)."""
    p = job.period
    return hourly_statement(
        measurement=measurement,
        calls={"out_n": ("count", "supply_temp_c")},
        where=[
            ("supply_temp_c", "<", job.site.supply_temp_min_c),
            ("supply_temp_c", ">", job.site.supply_temp_max_c),
        ],
        where_any=True,
        start=p.start_utc + offset_ms * MS,
        end=p.stop_utc + offset_ms * MS,
        offset_s=p.offset_s,
        offset_ms=offset_ms,
        tags={"site": job.site.slug, **tags},
        group_by=["site"],
    )


def _supply_counts(job: Job) -> None:
    """The SLA's supply temperature counts, from the site's heat meters together."""
    for t in job.hours:
        n = sum(job.count(k, t, "s_n") for k in job.series("meter:"))
        if n:
            job.rows["supply"].setdefault(t, {})["n"] = n


def _fallback_to_loop(job: Job) -> list[tuple]:
    """A site whose heat meters report no supply temperature: the primary loop's instead."""
    job.sla_source = "loop"
    job.rows.pop("supply", None)
    by_site = {job.site.slug: job}
    p = job.period
    return [
        (
            hourly_statement(
                measurement="loop",
                calls={"n": ("count", "supply_temp_c")},
                start=p.start_utc,
                end=p.stop_utc,
                offset_s=p.offset_s,
                tags={"site": job.site.slug, "loop": "primary"},
                group_by=["site"],
            ),
            _store(by_site, "supply"),
        ),
        (_out_of_band(job, "loop", {"loop": "primary"}), _store(by_site, "supply")),
    ]


def _settle_sla(job: Job) -> list[int]:
    """SLA seconds of the hours the counts decide; return the hours they do not. An hour is
    decided when demand and supply temperature are both clean (or one is missing all hour)
    and the shares of the samples received settle it."""
    job._nominal.clear()  # every hourly row is in by now
    open_hours = []
    for t in job.hours:
        length = job.length_s(t)
        dem_n, on_n = job.count("demand", t), job.count("demand", t, "on_n")
        sup_n, out_n = job.count("supply", t), job.count("supply", t, "out_n")
        if sup_n == 0 or dem_n == 0:  # one side missing all hour: nothing to join
            job.sla[t] = [0.0, 0.0, 0.0]
            continue
        if not (job.clean("demand", "n", t) and job.clean("supply", "n", t)):
            open_hours.append(t)
        elif out_n == 0:  # supply always in band
            called = on_n / dem_n * length
            job.sla[t] = [called, called, length]
        elif on_n == 0:  # never calling
            job.sla[t] = [0.0, 0.0, length]
        elif on_n == dem_n:  # calling all hour: the supply's own share
            job.sla[t] = [length, (sup_n - out_n) / sup_n * length, length]
        elif out_n == sup_n:  # supply out of band all hour
            job.sla[t] = [on_n / dem_n * length, 0.0, length]
        else:
            open_hours.append(t)
    return open_hours


def _spans(hours: Iterable[int], merge_within: int = 6 * HOUR_MS) -> list[tuple[int, int]]:
    spans: list[list[int]] = []
    for t in sorted(hours):
        if spans and t - spans[-1][1] <= merge_within:
            spans[-1][1] = t + HOUR_MS
        else:
            spans.append([t, t + HOUR_MS])
    return [(a, b) for a, b in spans]


def _utc(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


def _sla_by_bucket(job: Job, hours: list[int]) -> list[tuple]:
    """Demand and supply temperature per bucket for the hours the counts left open."""
    source, tags = ("loop", {"loop": "primary"}) if job.sla_source == "loop" else ("heat_meter", {})
    bucket_s = job.bucket_s("demand", "supply")
    bucket = f"{bucket_s}s"
    hour_set = set(hours)
    plan = []
    for a, b in _spans(hours):
        state: dict = {}

        def demand(result, state=state):
            state["demand"] = {row["time"]: row["d"] for _t, row in _rows(result) if row["d"] is not None}

        def supply(result, state=state):
            temps = {row["time"]: row["s"] for _t, row in _rows(result) if row["s"] is not None}
            _join(job, state.get("demand", {}), temps, hour_set, bucket_s)

        common = {"start": _utc(a), "end": _utc(min(b, job.end_ms)), "bucket": bucket}
        plan.append(
            (
                rollup_statement(
                    measurement="consumer",
                    inner={"d": ("mean", "demand_kw")},
                    tags={"site": job.site.slug},
                    **common,
                ),
                demand,
            )
        )
        plan.append(
            (
                rollup_statement(
                    measurement=source,
                    inner={"s": ("mean", "supply_temp_c")},
                    tags={"site": job.site.slug, **tags},
                    **common,
                ),
                supply,
            )
        )
    return plan


def _join(job: Job, demand: dict, supply: dict, hours: set[int], bucket_s: int) -> None:
    lo, hi = job.site.supply_temp_min_c, job.site.supply_temp_max_c
    demand_on = conf.number("HEATOPS_REPORT_DEMAND_ON_KW")
    for t, d in demand.items():
        hour = job.hour_of(t)
        s = supply.get(t)
        if hour not in hours or s is None:
            continue
        cell = job.sla.setdefault(hour, [0.0, 0.0, 0.0])
        cell[2] += bucket_s
        if d > demand_on:
            cell[0] += bucket_s
            if lo <= s <= hi:
                cell[1] += bucket_s
    for hour in hours:
        job.sla.setdefault(hour, [0.0, 0.0, 0.0])


# --- the point-level reads ---------------------------------------------------------------

RATIO_INPUTS = {  # ratio -> its inputs (heat: the heat sources together)
    "heat_recovery_ratio": ("heat", "it"),
    "erf": ("heat", "total"),
    "pue": ("total", "it"),
    "ere": ("total", "it", "heat"),
}


def _fine_hours(job: Job) -> dict[str, set[int]]:
    """Per source, the hours to read per bucket: its own unclean hours, and for the ratios'
    inputs every hour in which another input of a ratio is unclean (the ratio is formed
    over the time all its inputs cover), unless an input has no points all hour (then the
    ratio has nothing there)."""
    inputs = job.ratio_inputs()
    out = {name: set(job.unclean(src)) for name, src in job.sources().items()}
    for needs in RATIO_INPUTS.values():
        members = [src for part in needs for src in inputs[part]]
        if any(not inputs[part] for part in needs):
            continue
        partial = set().union(*(job.unclean(src) for src in members))
        for t in partial:
            if any(job.empty(src, t) for src in members):
                continue
            for src in members:
                out[src.name].add(t)
    return out


def _bucket_of(job: Job, t_ms: int) -> int:
    """The start of the bucket an interval ending at ``t_ms`` belongs to (a point exactly on
    a bucket's end closes it)."""
    size = job.fine_bucket_s * 1000
    return job.start_ms + (t_ms - 1 - job.start_ms) // size * size


def _point_level(job: Job) -> list[tuple]:
    """Statements reading each source per bucket in its hours that need it."""
    job.fine_hours = _fine_hours(job)
    sources = job.sources()
    job.fine_bucket_s = job.bucket_s(*(f"{s.key}|{s.count}" for s in sources.values() if s.kind != "state"))
    bucket = f"{job.fine_bucket_s}s"
    offset_ms = (job.period.offset_s * 1000 + 1) % (job.fine_bucket_s * 1000)
    plan = []
    for name, hours in job.fine_hours.items():
        src = sources[name]
        gap = job.max_gap_ms(src)
        tags = dict(src.tags)
        for a, b in _spans(hours, merge_within=0):
            b = min(b, job.end_ms)
            if src.kind == "register":
                plan += _register_reads(job, src, a, b, gap, bucket, offset_ms, tags)
                continue
            if src.kind == "power":
                inner = {"e": ("trapezoid", src.field), "dt": ("elapsed", src.field)}
                outer = {"e": ("sum", "e"), "dt": ("sum", "dt")}
                every, off = bucket, offset_ms
            else:  # state: only the time covered, per hour
                inner, outer = {"dt": ("elapsed", src.field)}, {"dt": ("sum", "dt")}
                every, off = "1h", (job.period.offset_s * 1000 + 1) % HOUR_MS
            statement = interval_statement(
                measurement=src.measurement,
                inner=inner,
                outer=outer,
                where=[("dt", "<=", gap)],
                start=_utc(a),
                end=_utc(b) + MS,
                every=every,
                offset_ms=off,
                tags=tags,
                group_by=["site"],
            )
            plan.append((statement, _fine_handler(job, src, a, b, every == "1h")))
    return plan


def _fine_handler(job: Job, src: Source, a: int, b: int, hourly: bool):
    def handle(result):
        for _tags, row in _rows(result):
            start = row["time"] - 1  # windows start a millisecond past
            if not a <= start < b:
                continue
            hour = job.hour_of(start)
            if hour not in job.fine_hours[src.name]:
                continue
            key = hour if hourly else start
            job.fine[src.name][hour][key] = [row.get("e") or 0.0, row.get("dt") or 0]

    return handle


def _register_reads(
    job: Job, src: Source, a: int, b: int, gap: int, bucket: str, offset_ms: int, tags: dict
) -> list[tuple]:
    """A register's short increases per bucket, and its drops and long intervals one by one
    (spread over their time once all are in)."""
    edges = job.edges[src.name]
    lo = a - gap
    if a == job.start_ms and "before" in edges:
        lo = min(lo, edges["before"][0])
    hi = b
    if b == job.end_ms and "after" in edges:
        hi = max(hi, edges["after"][0])
    common = {
        "measurement": src.measurement,
        "start": _utc(lo),
        "end": _utc(hi) + MS,
        "tags": tags,
        "group_by": ["site"],
    }
    sums = interval_statement(
        inner={"d": ("difference", src.field), "dt": ("elapsed", src.field)},
        outer={"e": ("sum", "d")},
        where=[("d", ">=", 0.0), ("dt", "<=", gap)],
        every=bucket,
        offset_ms=offset_ms,
        **common,
    )
    events = interval_statement(
        inner={"d": ("difference", src.field), "r": ("value", src.field), "dt": ("elapsed", src.field)},
        where=[("d", "<", 0.0), ("dt", ">", gap)],
        where_any=True,
        **common,
    )

    def handle_events(result):
        for _tags, row in _rows(result):
            drop = row["d"] < 0
            job.events[src.name][row["time"]] = (row["r"] if drop else row["d"], int(row["dt"]), drop)

    return [(sums, _fine_handler(job, src, a, b, hourly=False)), (events, handle_events)]


def _spread_events(job: Job) -> None:
    """Each drop and long interval of a register into the buckets it covers (a drop over a
    short interval: the bucket it ends in), and count the period's resets."""
    size = job.fine_bucket_s * 1000
    sources = job.sources()
    job.resets = 0
    for name, events in job.events.items():
        gap = job.max_gap_ms(sources[name])
        hours = job.fine_hours.get(name, set())
        for t_end, (increase, dt, drop) in sorted(events.items()):
            if drop and job.start_ms < t_end <= job.end_ms:
                job.resets += 1
            if dt <= gap:
                parts = [(_bucket_of(job, t_end), increase)]
            else:
                t0, parts = t_end - dt, []
                b = _bucket_of(job, t0 + 1)
                while b < t_end:
                    parts.append((b, increase * (min(b + size, t_end) - max(b, t0)) / dt))
                    b += size
            for b, amount in parts:
                hour = job.hour_of(b)
                if job.start_ms <= b < job.end_ms and hour in hours:
                    job.fine[name][hour].setdefault(b, [0.0, 0])[0] += amount


def _run(client: InfluxClient, plan: list[tuple]) -> str:
    """Send the plan's statements in one request and hand each its result; return the batch."""
    if not plan:
        return ""
    timeout = conf.number("HEATOPS_REPORT_INFLUX_TIMEOUT")
    results = client.rollups([statement for statement, _ in plan], timeout=timeout)
    for (_statement, handle), result in zip(plan, results, strict=True):
        handle(result)
    return ";".join(statement for statement, _ in plan)


def collect(jobs: Sequence[Job], *, client: InfluxClient) -> list[str]:
    """Fill every job from InfluxDB: at most three requests for all of them. Returns the
    requests' statements (the benchmark replays them bare)."""
    groups: dict[tuple, list[Job]] = defaultdict(list)
    for job in jobs:
        groups[(job.period.start_utc, job.period.stop_utc, job.period.offset_s)].append(job)
    sent = [_run(client, [step for group in groups.values() for step in _phase1(group)])]
    second, later = [], []
    for job in jobs:
        _supply_counts(job)
        second += _point_level(job)
        if any(job.count("supply", t) for t in job.hours):
            second += _sla_by_bucket(job, _settle_sla(job))
        else:
            second += _fallback_to_loop(job)
            later.append(job)
    sent.append(_run(client, second))
    third = []
    for job in later:
        third += _sla_by_bucket(job, _settle_sla(job))
    sent.append(_run(client, third))
    for job in jobs:
        _spread_events(job)
    return [s for s in sent if s]
