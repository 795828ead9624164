"""The first request: every job's hourly rows (one statement per measurement for all the
sites sharing a period) and the registers' readings either side of the period."""

from __future__ import annotations

from datetime import datetime

from apps.telemetry.influx.statements import edge_statement, hourly_statement

from . import conf
from .jobs import LOOKBACK, MS, Job
from .plans import store, store_edge
from .sla import out_of_band


def hourly_plan(jobs: list[Job]) -> list[tuple]:
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
        return statement, store_edge(by_site, which)

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
            store(by_site, "facility"),
        ),
        (
            hourly_statement(
                measurement="facility",
                calls={"up_n": ("count", "it_power_kw")},
                where=[("it_power_kw", ">", it_on)],
                **narrow,
                **site_g,
            ),
            store(by_site, "facility"),
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
            store(by_site, "meter", per_asset=True),
        ),
        edge("before", start - LOOKBACK, start + MS, latest=True),
        edge("first", start + MS, end + MS, latest=False),
        edge("last", start + MS, end + MS, latest=True),
        edge("after", end, end + LOOKBACK, latest=False),
        (
            hourly_statement(measurement="consumer", calls={"n": ("count", "demand_kw")}, **narrow, **site_g),
            store(by_site, "demand"),
        ),
        (
            hourly_statement(
                measurement="consumer",
                calls={"on_n": ("count", "demand_kw")},
                where=[("demand_kw", ">", demand_on)],
                **narrow,
                **site_g,
            ),
            store(by_site, "demand"),
        ),
        (
            hourly_statement(measurement="pump", calls={"n": ("count", "running")}, **narrow, **asset_g),
            store(by_site, "pump", per_asset=True),
        ),
        (
            hourly_statement(
                measurement="pump",
                calls={"run_n": ("count", "running")},
                where=[("running", "=", True)],
                **narrow,
                **asset_g,
            ),
            store(by_site, "pump", per_asset=True),
        ),
    ]
    for job in jobs:  # the band is each site's own
        plan.append((out_of_band(job, "heat_meter", {}, offset_ms=1), store(by_site, "supply")))
    return plan
