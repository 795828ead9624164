"""The point-level reads: each source per bucket in the hours that need it (gaps, a
register's drops and long intervals, ratios whose inputs are partly covered)."""

from __future__ import annotations

from apps.telemetry.influx.statements import interval_statement

from .jobs import HOUR_MS, MS, Job, Source
from .plans import result_rows, spans, utc_ms

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


def point_level(job: Job) -> list[tuple]:
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
        for a, b in spans(hours, merge_within=0):
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
                start=utc_ms(a),
                end=utc_ms(b) + MS,
                every=every,
                offset_ms=off,
                tags=tags,
                group_by=["site"],
            )
            plan.append((statement, _fine_handler(job, src, a, b, every == "1h")))
    return plan


def _fine_handler(job: Job, src: Source, a: int, b: int, hourly: bool):
    def handle(result):
        for _tags, row in result_rows(result):
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
        "start": utc_ms(lo),
        "end": utc_ms(hi) + MS,
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
        for _tags, row in result_rows(result):
            drop = row["d"] < 0
            job.events[src.name][row["time"]] = (row["r"] if drop else row["d"], int(row["dt"]), drop)

    return [(sums, _fine_handler(job, src, a, b, hourly=False)), (events, handle_events)]


def spread_events(job: Job) -> None:
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
