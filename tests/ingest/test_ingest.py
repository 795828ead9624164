"""The ingest endpoint, checked by reading the real InfluxDB back."""

from __future__ import annotations

import base64
import gzip
import time
from datetime import UTC, datetime

import pytest
from django.urls import reverse

from apps.demo.sites import seed_demo_sites
from apps.ingest.models import IngestToken
from apps.ingest.services import ingest_token_issue, ingest_token_revoke
from apps.ingest.spool import get_spool
from apps.ingest.tasks import ingest_drain_spool_task
from apps.telemetry.influx.client import get_client
from apps.telemetry.influx.statements import hourly_statement
from heatops.devservices.base import free_port
from heatops.devservices.stores import InfluxServer

pytestmark = pytest.mark.django_db


@pytest.fixture
def now_s() -> int:
    """A minute ago, in seconds: read when the test starts, never at import."""
    return int(time.time()) - 60


@pytest.fixture
def sites(settings, tmp_path):
    settings.HEATOPS_SPOOL_DIR = tmp_path / "spool"
    return {s.slug: s for s in seed_demo_sites()}


@pytest.fixture
def token(sites):
    return ingest_token_issue(site=sites["pool"], name="telegraf")[1]


def post(client, site, body, token=None, *, precision="s", headers=None, gzip_body=False, path="write"):
    data = body.encode() if isinstance(body, str) else body
    extra = dict(headers or {})
    if token:
        extra.setdefault("Authorization", f"Token {token}")
    if gzip_body:
        data = gzip.compress(data)
        extra["Content-Encoding"] = "gzip"
    url = reverse(f"ingest:{path}", args=[site]) + f"?db=telegraf&precision={precision}"
    return client.post(url, data=data, content_type="text/plain; charset=utf-8", headers=extra)


def values(influx, measurement, site="pool"):
    return sorted(
        (r.tags.get("asset"), r.fields)
        for r in influx.latest(lookback="1h", measurements=[measurement], tags={"site": site})
    )


def test_a_good_batch_is_written_and_answered_204(now_s, client, influx, token):
    body = "\n".join(
        [
            f"rack,site=pool,asset=rack-a power_kw=21.5,inlet_temp_c=38i {now_s}",
            f"rack,site=pool,asset=rack-b power_kw=19.25 {now_s}",
            "consumer,site=pool demand_kw=40,online=true",  # no timestamp: stamped on arrival
        ]
    )
    response = post(client, "pool", body, token)
    assert response.status_code == 204
    assert values(influx, "rack") == [
        ("rack-a", {"power_kw": 21.5, "inlet_temp_c": 38.0}),
        ("rack-b", {"power_kw": 19.25}),
    ]
    consumer = influx.latest(lookback="1h", measurements=["consumer"])[0]
    assert consumer.fields == {"demand_kw": 40.0, "online": True}
    assert abs((datetime.now(UTC) - consumer.time).total_seconds()) < 60


def test_telegraf_style_basic_auth_gzip_and_create_database_work(now_s, client, influx, token):
    basic = "Basic " + base64.b64encode(f"telegraf:{token}".encode()).decode()
    # Telegraf's InfluxDB output sends CREATE DATABASE at start-up
    created = client.post(
        reverse("ingest:query", args=["pool"]),
        {"q": 'CREATE DATABASE "telegraf"'},
        headers={"Authorization": basic},
    )
    assert created.json() == {"results": [{"statement_id": 0}]}
    assert post(client, "pool", "", headers={"Authorization": basic}, path="query").status_code == 400

    ms = now_s * 1000
    response = post(
        client,
        "pool",
        f"weather,site=pool outdoor_temp_c=7.5 {ms}",
        headers={"Authorization": basic},
        precision="ms",
        gzip_body=True,
    )
    assert response.status_code == 204
    reading = influx.latest(lookback="1h", measurements=["weather"])[0]
    assert (reading.fields, reading.time_ms) == ({"outdoor_temp_c": 7.5}, ms)


def test_a_partly_bad_batch_writes_the_good_lines_and_names_each_bad_one(now_s, client, influx, token):
    body = "\n".join(
        [
            f"rack,site=pool,asset=rack-a power_kw=20 {now_s}",  # 1 good
            "rack,site=pool,asset=rack-b power_kw",  # 2 malformed
            f"racks,site=pool,asset=rack-b power_kw=3 {now_s}",  # 3 unknown measurement
            f"rack,site=school,asset=rack-a power_kw=9 {now_s}",  # 4 another site's tag
            "",  # 5 blank, skipped
            f"rack,site=pool,asset=rack-b watts=3 {now_s}",  # 6 unknown field
            f"rack,site=pool,asset=rack-b power_kw=3 {now_s + 86400}",  # 7 future
            f"consumer,site=pool demand_kw=33 {now_s}",  # 8 good
        ]
    )
    response = post(client, "pool", body, token)
    assert response.status_code == 400
    report = response.json()
    assert report["accepted"] == 2 and report["rejected_count"] == 5
    reasons = {r["line"]: r["reason"] for r in report["rejected"]}
    assert set(reasons) == {2, 3, 4, 6, 7}
    assert "not key=value" in reasons[2]
    assert "unknown measurement 'racks'" in reasons[3]
    assert "for site 'school'; this token belongs to site 'pool'" in reasons[4]
    assert "unknown field 'watts'" in reasons[6]
    assert "future" in reasons[7]
    assert "5 of 7 lines rejected" in report["error"]

    assert values(influx, "rack") == [("rack-a", {"power_kw": 20.0})]
    assert values(influx, "consumer")[0][1] == {"demand_kw": 33.0}
    assert values(influx, "rack", site="school") == []


def test_an_oversize_batch_is_refused_with_413_and_nothing_written(now_s, client, influx, token, settings):
    settings.HEATOPS_INGEST_MAX_BYTES = 1000
    body = "\n".join(f"rack,site=pool,asset=rack-a power_kw={i} {now_s - i}" for i in range(100))
    response = post(client, "pool", body, token)
    assert response.status_code == 413 and "limit is 1000" in response.json()["error"]
    zipped = post(client, "pool", body, token, gzip_body=True)  # small on the wire, big unzipped
    assert zipped.status_code == 413 and "unzipped" in zipped.json()["error"]
    assert values(influx, "rack") == []


def test_no_token_a_wrong_token_a_revoked_token_or_another_site_writes_nothing(
    now_s, client, influx, sites, token
):
    line = f"rack,site=pool,asset=rack-a power_kw=5 {now_s}"
    assert post(client, "pool", line).status_code == 401
    assert post(client, "pool", line, "hops_not-a-real-token").status_code == 401
    school_token = ingest_token_issue(site=sites["school"], name="school agent")[1]
    forbidden = post(client, "pool", line, school_token)
    assert forbidden.status_code == 403 and "may not write to site 'pool'" in forbidden.json()["error"]
    ingest_token_revoke(token=IngestToken.objects.get(site=sites["pool"]))
    revoked = post(client, "pool", line, token)
    assert revoked.status_code == 401 and "revoked" in revoked.json()["error"]
    assert values(influx, "rack") == []
    assert IngestToken.objects.filter(key_hash__contains=token).count() == 0  # only a hash is stored


def test_accepted_data_survives_an_influxdb_restart(now_s, client, sites, token, settings, tmp_path):
    """InfluxDB goes down mid-ingest: the endpoint keeps answering 204, keeps the lines on
    disk, and they all land once InfluxDB is back."""
    server = InfluxServer(root=tmp_path / "influx", port=free_port(), fsync_delay="0s")
    server.start()
    try:
        settings.INFLUX = {**settings.INFLUX, "URL": server.url, "DB": "restart"}
        get_client().ensure_database()
        assert (
            post(client, "pool", f"rack,site=pool,asset=rack-a power_kw=1 {now_s - 30}", token).status_code
            == 204
        )

        server.stop()
        for i in range(3):
            response = post(
                client, "pool", f"rack,site=pool,asset=rack-a power_kw={10 + i} {now_s - 20 + i}", token
            )
            assert response.status_code == 204
        spool = get_spool()
        assert spool.pending() == 3
        assert ingest_drain_spool_task() == 0  # still down: nothing lost, nothing delivered

        server.start()
        assert ingest_drain_spool_task() == 3
        assert spool.pending() == 0
        rows = get_client().select("SELECT power_kw FROM rack WHERE \"site\" = 'pool'")[0].values
        assert [v for _, v in rows] == [1.0, 10.0, 11.0, 12.0]
    finally:
        server.stop()


def test_a_full_spool_refuses_with_503_so_the_agent_retries(now_s, client, sites, token, settings):
    settings.INFLUX = {**settings.INFLUX, "URL": f"http://127.0.0.1:{free_port()}"}
    settings.HEATOPS_SPOOL_MAX_BYTES = 100
    response = post(client, "pool", f"rack,site=pool,asset=rack-a power_kw=1 {now_s}", token)
    assert response.status_code == 204
    response = post(client, "pool", f"rack,site=pool,asset=rack-a power_kw=2 {now_s}\n" * 3, token)
    assert response.status_code == 503 and response["Retry-After"] == "30"
    assert "nothing from this batch was kept" in response.json()["error"]
    assert get_spool().pending() == 1


def test_tokens_are_issued_and_revoked_in_the_admin(now_s, admin_client, client, influx, sites):
    response = admin_client.post(
        reverse("admin:ingest_ingesttoken_add"),
        {"site": sites["pool"].pk, "name": "BMS gateway"},
        follow=True,
    )
    page = response.content.decode()
    raw = page.split("Token for Northgate Leisure Pool: ")[1].split(" ")[0]
    assert raw.startswith("hops_")
    assert post(client, "pool", f"weather,site=pool outdoor_temp_c=3 {now_s}", raw).status_code == 204

    row = IngestToken.objects.get(name="BMS gateway")
    admin_client.post(
        reverse("admin:ingest_ingesttoken_changelist"), {"action": "revoke", "_selected_action": [row.pk]}
    )
    assert post(client, "pool", f"weather,site=pool outdoor_temp_c=4 {now_s}", raw).status_code == 401
    listing = admin_client.get(reverse("admin:ingest_ingesttoken_changelist")).content.decode()
    assert "revoked" in listing and raw not in listing


def test_with_write_behind_the_background_writer_delivers_what_was_answered(
    now_s, client, influx, token, settings
):
    """In production a batch that finds others waiting in the spool (InfluxDB did not
    take them at once) is answered once it is on disk behind them; the web process's
    writer thread then delivers them all. Wait (without a timing assertion) for that."""
    settings.HEATOPS_INGEST_WRITE_BEHIND = True
    waiting = f"weather,site=pool outdoor_temp_c=4.5 {now_s - 101}"
    get_spool().put(waiting.encode(), precision="s", site="pool")
    lines = "\n".join(f"rack,asset=rack-a,site=pool power_kw={i}.5 {now_s - 100 + i}" for i in range(49))
    assert post(client, "pool", lines, token).status_code == 204
    assert (
        post(client, "pool", f"rack,asset=rack-a,site=pool power_kw=49.5 {now_s - 51}", token).status_code
        == 204
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        [series] = influx.rollups(
            [
                hourly_statement(
                    measurement="rack",
                    calls={"n": ("count", "power_kw")},
                    start=datetime.fromtimestamp(now_s - 200, UTC),
                    end=datetime.now(UTC),
                    every=None,
                )
            ]
        )
        delivered = bool(series) and series[0].values[0][1] == 50
        if delivered and get_spool().pending() == 0:  # the writer removes the file once written
            break
        time.sleep(0.05)
    assert series and series[0].values[0][1] == 50
    assert get_spool().pending() == 0


def test_batches_waiting_together_are_delivered_together_and_a_refused_one_is_set_aside_alone(
    now_s, influx, sites
):
    influx.write_lines(f"rack,asset=x,site=pool power_kw=5i {now_s - 10}", precision="s")  # an integer field
    spool = get_spool()
    spool.put(f"weather,site=pool outdoor_temp_c=1.5 {now_s - 3}".encode(), precision="s", site="pool")
    spool.put(f"rack,asset=a,site=pool power_kw=1.5 {now_s - 2}".encode(), precision="s", site="pool")
    spool.put(f"weather,site=pool outdoor_temp_c=2.5 {now_s - 1}".encode(), precision="s", site="pool")
    spool.put(f"weather,site=pool outdoor_temp_c=3.5 {now_s * 1000}".encode(), precision="ms", site="pool")
    assert spool.drain(get_client()) == 3
    assert spool.pending() == 0
    (refused,) = (spool.directory / "failed").iterdir()
    assert b"power_kw=1.5" in refused.read_bytes()
    rows = get_client().select("SELECT outdoor_temp_c FROM weather WHERE \"site\" = 'pool'")[0].values
    assert [v for _, v in rows] == [1.5, 2.5, 3.5]
