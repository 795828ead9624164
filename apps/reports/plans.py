"""A request to InfluxDB as a plan: (statement, handler) pairs, sent in one request, each
handler filing its statement's rows into the jobs; and the small helpers the plans share."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from apps.telemetry.influx.client import InfluxClient
from apps.telemetry.influx.results import Series

from . import conf
from .jobs import HOUR_MS, Job


def result_rows(result: list[Series]) -> Iterable[tuple[dict, dict]]:
    for series in result:
        for row in series.rows():
            yield series.tags, row


def store(by_site: dict[str, Job], key: str, *, per_asset: bool = False):
    """A handler filing each hourly row under its job and series key (a window that starts a
    millisecond past the hour is that hour's)."""

    def handle(result):
        for tags, row in result_rows(result):
            job = by_site.get(tags.get("site"))
            if job is None:
                continue
            name = f"{key}:{tags.get('asset', '')}" if per_asset else key
            slot = job.rows[name].setdefault(job.hour_of(row["time"]), {})
            for column, value in row.items():
                if column != "time" and value is not None:
                    slot[column] = slot.get(column, 0) + value if column.endswith("_n") else value

    return handle


def store_edge(by_site: dict[str, Job], which: str):
    def handle(result):
        for tags, row in result_rows(result):
            job = by_site.get(tags.get("site"))
            if job is not None and row.get("energy_kwh") is not None:
                job.edges[f"register:{tags.get('asset', '')}"][which] = (row["time"], row["energy_kwh"])

    return handle


def spans(hours: Iterable[int], merge_within: int = 6 * HOUR_MS) -> list[tuple[int, int]]:
    spans: list[list[int]] = []
    for t in sorted(hours):
        if spans and t - spans[-1][1] <= merge_within:
            spans[-1][1] = t + HOUR_MS
        else:
            spans.append([t, t + HOUR_MS])
    return [(a, b) for a, b in spans]


def utc_ms(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


def run_plan(client: InfluxClient, plan: list[tuple]) -> str:
    """Send the plan's statements in one request and hand each its result; return the batch."""
    if not plan:
        return ""
    timeout = conf.number("HEATOPS_REPORT_INFLUX_TIMEOUT")
    results = client.rollups([statement for statement, _ in plan], timeout=timeout)
    for (_statement, handle), result in zip(plan, results, strict=True):
        handle(result)
    return ";".join(statement for statement, _ in plan)
