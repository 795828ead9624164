"""The monthly performance figures, computed inside InfluxDB.

InfluxDB answers with one row per local hour and series: the mean and the count of its
points (plain ``GROUP BY time(1h) fill(none)`` aggregates over raw points, the cheapest
read it offers). Everything else is arithmetic on those rows, at most 745 per series a
month (here and in figures.py):

- A series' *nominal* count is its most common hourly count (360 for a 10 s interval).
  An hour's coverage is its count over the nominal one (an hour with at least 99 % of
  it counts as complete); an hour without points has no row and coverage 0.
- Energy of an hour = mean power x coverage x the hour. A gap adds nothing and lowers
  the coverage; it is never filled with zeros nor bridged. (InfluxDB's integral() draws a
  straight line across a gap, and so would invent the gap's energy.)
- A heat meter's register gives heat delivered as the increase of its last reading from
  hour to hour. An hour where it went down (a reset or a new meter) or with no earlier
  reading is read again bucket by bucket, summing only the increases.
- The SLA needs demand and supply temperature at the same moments, and InfluxQL cannot
  join two measurements. Hours the counts decide (supply complete and never out of band;
  or no heat called for) are settled from the hourly rows; only the others are read per
  bucket and joined here.

All sites and periods asked for are read in at most three requests: the hourly rows
(one statement per measurement for every site sharing a period), the primary loop for
sites whose meter has no supply temperature, then the bucket-level reads above.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from apps.sites.models import Site
from apps.telemetry.influx import InfluxClient, Series, hourly_statement, rollup_statement

from . import conf
from .periods import Period

HOUR_MS = 3_600_000
COMPLETE = 0.99  # an hour with this share of its nominal points counts as complete
DIVISORS_OF_AN_HOUR = [d for d in range(1, 3601) if 3600 % d == 0]


def nominal(counts: Iterable[int]) -> int:
    """The most common positive hourly count (the larger on a tie)."""
    tally = Counter(c for c in counts if c > 0)
    if not tally:
        return 0
    return max(tally.items(), key=lambda kv: (kv[1], kv[0]))[0]


def coverage(n: int, nom: int) -> float:
    if n <= 0 or nom <= 0:
        return 0.0
    share = n / nom
    return 1.0 if share >= COMPLETE else share


@dataclass
class Job:
    """One site over one period, and what InfluxDB said about it."""

    site: Site
    period: Period
    hours: list[int] = field(default_factory=list)  # local hour starts, epoch ms
    rows: dict[str, dict[int, dict]] = field(
        default_factory=lambda: defaultdict(dict)
    )  # series -> hour -> row
    before: dict[str, float] = field(default_factory=dict)  # meter -> register reading before the period
    register_fix: dict[tuple[str, int], float] = field(default_factory=dict)  # (meter, hour) -> increase
    sla: dict[int, list[float]] = field(default_factory=dict)  # hour -> [called s, in band s, joint s]
    sla_source: str = "heat_meter"
    resets: int = 0

    def __post_init__(self) -> None:
        start_ms = int(self.period.start_utc.timestamp() * 1000)
        end_ms = int(self.period.end_utc.timestamp() * 1000)
        self.hours = list(range(start_ms, end_ms, HOUR_MS))
        self.end_ms = end_ms
        self._nominal: dict[tuple, int] = {}

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

    def cov(self, key: str, t: int, column: str = "n") -> float:
        return coverage(self.count(key, t, column), self.nominal(key, column))

    def bucket_s(self, *keys: str) -> int:
        """Bucket for bucket-level reads: at least the setting and the sample interval."""
        floor = conf.bucket_seconds()
        for key in keys:
            nom = self.nominal(key)
            if nom:
                floor = max(floor, 3600 / nom)
        return next(d for d in DIVISORS_OF_AN_HOUR if d >= floor)


# --- the queries --------------------------------------------------------------------------


def _rows(result: list[Series]) -> Iterable[tuple[dict, dict]]:
    for series in result:
        for row in series.rows():
            yield series.tags, row


def _store(by_site: dict[str, Job], key: str, *, per_asset: bool = False):
    """A handler filing each hourly row under its job and series key."""

    def handle(result):
        for tags, row in _rows(result):
            job = by_site.get(tags.get("site"))
            if job is None:
                continue
            name = f"{key}:{tags.get('asset', '')}" if per_asset else key
            if row["time"] < job.hours[0]:  # the hour before the period: a register's last reading
                if row.get("e") is not None:
                    job.before[name] = row["e"]
                continue
            slot = job.rows[name].setdefault(row["time"], {})
            for column, value in row.items():
                if column != "time" and value is not None:
                    slot[column] = slot.get(column, 0) + value if column.endswith("_n") else value

    return handle


def _phase1(jobs: list[Job]) -> list[tuple]:
    """(statement, handler) pairs for the hourly rows of jobs sharing a period."""
    period = jobs[0].period
    by_site = {j.site.slug: j for j in jobs}
    common = {
        "start": period.start_utc,
        "end": period.end_utc,
        "offset_s": period.offset_s,
        "tags_any": {"site": sorted(by_site)},
    }
    site_h = {**common, "group_by": ["site"]}
    asset_h = {**common, "group_by": ["site", "asset"]}
    it_on = conf.number("HEATOPS_REPORT_IT_ON_KW")
    demand_on = conf.number("HEATOPS_REPORT_DEMAND_ON_KW")
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
                **site_h,
            ),
            _store(by_site, "facility"),
        ),
        (
            hourly_statement(
                measurement="facility",
                calls={"up_n": ("count", "it_power_kw")},
                where=[("it_power_kw", ">", it_on)],
                **site_h,
            ),
            _store(by_site, "facility"),
        ),
        (
            hourly_statement(
                measurement="heat_meter",
                calls={
                    "p": ("mean", "power_kw"),
                    "n": ("count", "power_kw"),
                    "e": ("last", "energy_kwh"),
                    "e_n": ("count", "energy_kwh"),
                    "s_n": ("count", "supply_temp_c"),
                },
                **{**asset_h, "start": period.start_utc - timedelta(hours=1)},
            ),
            _store(by_site, "meter", per_asset=True),
        ),
        (
            hourly_statement(
                measurement="consumer",
                calls={"n": ("count", "demand_kw")},
                **site_h,
            ),
            _store(by_site, "demand"),
        ),
        (
            hourly_statement(
                measurement="consumer",
                calls={"on_n": ("count", "demand_kw")},
                where=[("demand_kw", ">", demand_on)],
                **site_h,
            ),
            _store(by_site, "demand"),
        ),
        (
            hourly_statement(measurement="pump", calls={"n": ("count", "running")}, **asset_h),
            _store(by_site, "pump", per_asset=True),
        ),
        (
            hourly_statement(
                measurement="pump",
                calls={"run_n": ("count", "running")},
                where=[("running", "=", True)],
                **asset_h,
            ),
            _store(by_site, "pump", per_asset=True),
        ),
    ]
    for job in jobs:  # the band is each site's own
        plan.append((_out_of_band(job, "heat_meter", {}), _store(by_site, "supply")))
    return plan


def _out_of_band(job: Job, measurement: str, tags: dict) -> str:
    p = job.period
    return hourly_statement(
        measurement=measurement,
        calls={"out_n": ("count", "supply_temp_c")},
        where=[
            ("supply_temp_c", "<", job.site.supply_temp_min_c),
            ("supply_temp_c", ">", job.site.supply_temp_max_c),
        ],
        where_any=True,
        start=p.start_utc,
        end=p.end_utc,
        offset_s=p.offset_s,
        tags={"site": job.site.slug, **tags},
        group_by=["site"],
    )


def _supply_counts(job: Job) -> None:
    """The SLA's supply temperature counts, from the site's heat meters together."""
    for t in job.hours:
        n = sum(job.count(k, t, "s_n") for k in job.series("meter:"))
        if n:
            job.rows["supply"].setdefault(t, {})["n"] = n


def _fallback_to_loop(jobs: list[Job]) -> list[tuple]:
    """Sites whose heat meters report no supply temperature: the primary loop's instead."""
    plan = []
    for job in jobs:
        if any(job.count("supply", t) for t in job.hours):
            continue
        job.sla_source = "loop"
        job.rows.pop("supply", None)
        by_site = {job.site.slug: job}
        p = job.period
        plan.append(
            (
                hourly_statement(
                    measurement="loop",
                    calls={"n": ("count", "supply_temp_c")},
                    start=p.start_utc,
                    end=p.end_utc,
                    offset_s=p.offset_s,
                    tags={"site": job.site.slug, "loop": "primary"},
                    group_by=["site"],
                ),
                _store(by_site, "supply"),
            )
        )
        plan.append((_out_of_band(job, "loop", {"loop": "primary"}), _store(by_site, "supply")))
    return plan


def _settle_sla(job: Job) -> list[int]:
    """SLA seconds of the hours the counts decide; return the hours they do not."""
    job._nominal.clear()  # every hourly row is in by now
    nom_d, nom_s = job.nominal("demand"), job.nominal("supply")
    open_hours = []
    for t in job.hours:
        length = job.length_s(t)
        dem_n, on_n = job.count("demand", t), job.count("demand", t, "on_n")
        sup_n, out_n = job.count("supply", t), job.count("supply", t, "out_n")
        sup_cov, dem_cov = coverage(sup_n, nom_s), coverage(dem_n, nom_d)
        if sup_n == 0 or dem_n == 0:  # one side missing all hour: nothing to join
            job.sla[t] = [0.0, 0.0, 0.0]
        elif sup_cov == 1.0 and out_n == 0:  # supply always there and in band
            called = min(length, on_n / nom_d * length)
            job.sla[t] = [called, called, dem_cov * length]
        elif dem_cov == 1.0 and on_n == 0:  # demand always there, never calling
            job.sla[t] = [0.0, 0.0, sup_cov * length]
        elif dem_cov == 1.0 and on_n == dem_n:  # calling all hour: the supply's own share
            job.sla[t] = [sup_cov * length, (sup_n - out_n) / sup_n * sup_cov * length, sup_cov * length]
        elif sup_cov == 1.0 and out_n == sup_n:  # supply out of band all hour
            job.sla[t] = [min(length, on_n / nom_d * length), 0.0, dem_cov * length]
        else:
            open_hours.append(t)
    return open_hours


def _spans(hours: Sequence[int], merge_within: int = 6 * HOUR_MS) -> list[tuple[int, int]]:
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

        def supply(result, state=state, a=a, b=b):
            temps = {row["time"]: row["s"] for _t, row in _rows(result) if row["s"] is not None}
            _join(job, state.get("demand", {}), temps, hour_set, bucket_s)

        common = {"start": _utc(a), "end": _utc(b), "bucket": bucket}
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


def _hour_of(job: Job, t_ms: int) -> int:
    return job.hours[0] + (t_ms - job.hours[0]) // HOUR_MS * HOUR_MS


def _join(job: Job, demand: dict, supply: dict, hours: set[int], bucket_s: int) -> None:
    lo, hi = job.site.supply_temp_min_c, job.site.supply_temp_max_c
    demand_on = conf.number("HEATOPS_REPORT_DEMAND_ON_KW")
    for t, d in demand.items():
        hour = _hour_of(job, t)
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


def _register_increases(job: Job) -> list[tuple[str, int]]:
    """Hour-to-hour increases of each register; return the (meter, hour) pairs that need a
    bucket-level read: the register went down, or there is no earlier reading."""
    fix = []
    for key in job.series("meter:"):
        previous = job.before.get(key)
        for t in job.hours:
            e = job.value(key, t, "e")
            if e is None:
                continue
            if previous is None or e < previous:
                fix.append((key, t))
                job.resets += previous is not None
            previous = e
    return fix


def _register_by_bucket(job: Job, fix: list[tuple[str, int]]) -> list[tuple]:
    """Increases per bucket within the given hours, the drops (resets) left out."""
    plan = []
    bucket_s = max(conf.bucket_seconds(), 60)
    for key, t in fix:
        asset = key.split(":", 1)[1]

        def handle(result, key=key, t=t):
            job.register_fix[(key, t)] = sum(row["s"] or 0 for _tags, row in _rows(result))

        plan.append(
            (
                rollup_statement(
                    measurement="heat_meter",
                    inner={"d": ("difference_last", "energy_kwh")},
                    outer={"s": ("sum", "d")},
                    where=[("d", ">=", 0.0)],
                    start=_utc(t),
                    end=_utc(t + HOUR_MS),
                    inner_start=_utc(t - HOUR_MS),
                    bucket=f"{bucket_s}s",
                    tags={"site": job.site.slug, "asset": asset},
                ),
                handle,
            )
        )
    return plan


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
        groups[(job.period.start_utc, job.period.end_utc, job.period.offset_s)].append(job)
    sent = [_run(client, [step for group in groups.values() for step in _phase1(group)])]
    for job in jobs:
        _supply_counts(job)
    sent.append(_run(client, _fallback_to_loop(list(jobs))))
    plan = []
    for job in jobs:
        plan += _sla_by_bucket(job, _settle_sla(job))
        plan += _register_by_bucket(job, _register_increases(job))
    sent.append(_run(client, plan))
    return [s for s in sent if s]
