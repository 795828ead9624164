"""Readings that come through heatops' ingest endpoint are on the open pages at once,
pushed by the pump between its reads of InfluxDB, and the read that later finds the same
point does not put it on the chart again. Real Chromium against the real stack (Daphne
with its spool writer, the pump, Redis, InfluxDB), with a pump tick of 30 s so that
nothing shown before the next read can have come from a read."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime

import httpx
import pytest
from playwright.sync_api import expect

from apps.telemetry.influx.client import InfluxClient
from apps.telemetry.influx.points import Point
from heatops.devstack import stack

from .conftest import ARTIFACTS
from .test_live_pages import log_in

TICK_S = 30
ISSUE_TOKEN = """
from apps.ingest.services import ingest_token_issue
from apps.sites.models import Site
print(ingest_token_issue(site=Site.objects.get(slug="pool"), name="push test")[1])
"""
PUMP_HAS_PUBLISHED = """
from django.core.cache import cache
from apps.sites.models import Site
from apps.telemetry.live import site_key
print(cache.get(site_key(Site.objects.get(slug="pool").pk)) is not None)
"""
CHART_TIMES = """(field) => {
    const gd = document.getElementById('chart-power');
    const trace = gd.data[field === 'it_kw' ? 0 : 1];
    return trace.x.map((x, i) => trace.y[i] === null ? null : +new Date(x)).filter(t => t !== null);
}"""


@pytest.fixture(scope="module")
def slow_pump(services, stack_database):
    with (
        stack_database("push") as database_url,
        stack(
            pump=True,
            influx_url=services["influx_url"],
            redis_url=services["redis_url"],
            database="push",
            database_url=database_url,
            extra_env={"HEATOPS_PUMP_TICK_S": str(TICK_S)},
        ) as s,
    ):
        deadline = time.monotonic() + 30
        while s.django_shell(PUMP_HAS_PUBLISHED) != "True":  # its first read is done
            assert time.monotonic() < deadline, "the pump published nothing"
        yield s


def influx_queries(s) -> int:
    """InfluxDB's own count of /query requests (the pump's reads among them)."""
    stats = InfluxClient(url=s.influx_url, database=s.database)
    return sum(row["queryReq"] for series in stats.select("SHOW STATS FOR 'httpd'") for row in series.rows())


def test_an_ingested_point_is_on_the_chart_before_the_next_read_and_only_once_after_it(slow_pump, browser):
    s = slow_pump
    token = s.django_shell(ISSUE_TOKEN)
    page = browser.new_page(viewport={"width": 1600, "height": 1000})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    log_in(page, s.web_url)
    page.goto(s.web_url + "/sites/pool/")
    page.wait_for_function("() => document.querySelector('#live-points') !== null")
    page.wait_for_selector("#chart-power .main-svg")
    expect(page.locator("#charts .chart-status")).to_have_text("")  # the history is drawn

    queries_before = influx_queries(s)
    at_ms = int(time.time() * 1000)
    answer = httpx.post(
        f"{s.web_url}/ingest/pool/write?precision=ms",
        content=f"facility,site=pool it_power_kw=77.7,total_power_kw=80 {at_ms}\n",
        headers={"Authorization": f"Token {token}"},
        trust_env=False,
    )
    assert answer.status_code == 204, answer.text
    expect(page.locator("#q-power .number")).to_have_text("77.7 kW", timeout=10_000)
    expect(page.locator("#q-power")).not_to_have_class(re.compile("is-stale"))
    page.wait_for_function(f"() => ({CHART_TIMES})('it_kw').includes({at_ms})")
    # only this count's own SHOW STATS since the first: the pump has not read InfluxDB,
    # so the point came by the push
    assert influx_queries(s) - queries_before == 1

    # An agent writing straight into InfluxDB: shown by the pump's next read, which also
    # reads the ingested point again
    later = datetime.now(UTC)
    InfluxClient(url=s.influx_url, database=s.database, retention_policy="heatops").write(
        [Point("facility", {"site": "pool"}, {"it_power_kw": 66.6, "total_power_kw": 70.0}, later)]
    )
    expect(page.locator("#q-power .number")).to_have_text("66.6 kW", timeout=(TICK_S + 15) * 1000)
    times = page.evaluate(CHART_TIMES, "it_kw")
    page.screenshot(path=str(ARTIFACTS / "site-pool-pushed.png"), full_page=True)
    assert times.count(at_ms) == 1, times[-5:]
    assert times[-2:] == [at_ms, int(later.timestamp() * 1000)], times[-5:]
    assert times == sorted(times)
    assert errors == []
