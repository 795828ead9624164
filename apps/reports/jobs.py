"""One site over one period while its report is computed: the series it has (sources), the
hourly rows InfluxDB answered, and the rules that read them: a series' expected interval
and maximum gap, clean hours, a register's increases and the time its readings bracket.
(How the figures are read is described in compute.py.)"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta

from apps.sites.models import Site

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
