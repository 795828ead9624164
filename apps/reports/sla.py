"""The supply temperature SLA: hours the hourly counts decide are settled from them; the
others are read per bucket (demand and supply temperature) and joined here, since InfluxQL
cannot join two measurements."""

from __future__ import annotations

from apps.telemetry.influx.statements import hourly_statement, rollup_statement

from . import conf
from .jobs import MS, Job
from .plans import result_rows, spans, store, utc_ms


def out_of_band(job: Job, measurement: str, tags: dict, offset_ms: int = 0) -> str:
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


def supply_counts(job: Job) -> None:
    """The SLA's supply temperature counts, from the site's heat meters together."""
    for t in job.hours:
        n = sum(job.count(k, t, "s_n") for k in job.series("meter:"))
        if n:
            job.rows["supply"].setdefault(t, {})["n"] = n


def fallback_to_loop(job: Job) -> list[tuple]:
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
            store(by_site, "supply"),
        ),
        (out_of_band(job, "loop", {"loop": "primary"}), store(by_site, "supply")),
    ]


def settle_sla(job: Job) -> list[int]:
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


def sla_by_bucket(job: Job, hours: list[int]) -> list[tuple]:
    """Demand and supply temperature per bucket for the hours the counts left open."""
    source, tags = ("loop", {"loop": "primary"}) if job.sla_source == "loop" else ("heat_meter", {})
    bucket_s = job.bucket_s("demand", "supply")
    bucket = f"{bucket_s}s"
    hour_set = set(hours)
    plan = []
    for a, b in spans(hours):
        state: dict = {}

        def demand(result, state=state):
            state["demand"] = {
                row["time"]: row["d"] for _t, row in result_rows(result) if row["d"] is not None
            }

        def supply(result, state=state):
            temps = {row["time"]: row["s"] for _t, row in result_rows(result) if row["s"] is not None}
            _join(job, state.get("demand", {}), temps, hour_set, bucket_s)

        common = {"start": utc_ms(a), "end": utc_ms(min(b, job.end_ms)), "bucket": bucket}
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
