"""A 204 from the ingest endpoint means InfluxDB stores those lines: each way an agent
used to be told "stored" and then lose the line, checked against the real InfluxDB."""

from __future__ import annotations

import base64
import gzip
import shutil
import subprocess
import time
from urllib.parse import urlsplit

import httpx
import pytest
from django.urls import reverse

from apps.alarms.models import Alarm
from apps.demo.sites import seed_demo_sites
from apps.ingest.models import IngestRefusal
from apps.ingest.services import ingest_token_issue
from apps.ingest.spool import get_spool

pytestmark = pytest.mark.django_db


@pytest.fixture
def now_s() -> int:
    return int(time.time()) - 60


@pytest.fixture
def sites(settings, tmp_path):
    settings.HEATOPS_SPOOL_DIR = tmp_path / "spool"
    return {s.slug: s for s in seed_demo_sites()}


@pytest.fixture
def token(sites):
    return ingest_token_issue(site=sites["pool"], name="agent")[1]


def post(client, body: bytes | str, token: str | None, *, query="precision=s", headers=None):
    data = body.encode() if isinstance(body, str) else body
    extra = {"Authorization": f"Token {token}"} if token else {}
    extra.update(headers or {})
    url = reverse("ingest:write", args=["pool"]) + (f"?{query}" if query else "")
    return client.post(url, data=data, content_type="text/plain", headers=extra)


def rack_power(influx) -> list[float]:
    series = influx.select("SELECT power_kw FROM rack WHERE \"site\" = 'pool'")
    return [row[1] for row in series[0].values] if series else []


def test_crlf_line_endings_are_stored_whatever_the_tag_order(client, influx, token, now_s):
    sorted_tags = (
        f"rack,asset=a,site=pool power_kw=1 {now_s}\r\nrack,asset=a,site=pool power_kw=2 {now_s + 1}\r\n"
    )
    other_order = (
        f"rack,site=pool,asset=a power_kw=3 {now_s + 2}\r\nrack,site=pool,asset=a power_kw=4 {now_s + 3}"
    )
    assert post(client, sorted_tags, token).status_code == 204
    assert post(client, other_order, token).status_code == 204
    assert rack_power(influx) == [1.0, 2.0, 3.0, 4.0]
    assert not (get_spool().directory / "failed").exists()


@pytest.mark.parametrize("precision", ["us", "u", "µ"])
def test_microsecond_precision_lands_at_the_right_time(client, influx, token, now_s, precision):
    response = post(
        client,
        f"rack,asset=a,site=pool power_kw=7 {now_s * 1_000_000}",
        token,
        query=f"precision={precision}",
    )
    assert response.status_code == 204
    reading = influx.latest(lookback="1h", measurements=["rack"])[0]
    assert (reading.fields, reading.time_ms) == ({"power_kw": 7.0}, now_s * 1000)


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("1e400", "beyond the range of a double"),
        ("1e309", "beyond the range of a double"),
        ("9" * 400, "beyond the range of a double"),
        ("9223372036854775808i", "64-bit integer"),
    ],
)
def test_a_number_influxdb_cannot_hold_is_refused_by_line_and_the_rest_stored(
    client, influx, token, now_s, value, reason
):
    body = "\n".join(
        [
            f"rack,asset=a,site=pool power_kw=1 {now_s}",
            f"rack,asset=a,site=pool power_kw={value} {now_s + 1}",
            f"rack,asset=a,site=pool power_kw=3 {now_s + 2}",
        ]
    )
    response = post(client, body, token)
    assert response.status_code == 400
    report = response.json()
    assert [r["line"] for r in report["rejected"]] == [2] and reason in report["rejected"][0]["reason"]
    assert report["accepted"] == 2
    assert rack_power(influx) == [1.0, 3.0]
    assert not (get_spool().directory / "failed").exists()


def test_duplicate_tag_keys_are_refused_as_influxdb_refuses_them(client, influx, token, now_s):
    response = post(client, f"rack,site=pool,asset=a,asset=b power_kw=1 {now_s}", token)
    assert response.status_code == 400
    assert "tag 'asset' appears twice" in response.json()["rejected"][0]["reason"]
    assert rack_power(influx) == []


def test_a_70kb_tag_value_is_refused_before_the_answer(client, influx, token, now_s):
    response = post(client, f"rack,site=pool,asset={'x' * 70_000} power_kw=1 {now_s}", token)
    assert response.status_code == 400
    assert "InfluxDB's limit is 65535" in response.json()["rejected"][0]["reason"]
    assert rack_power(influx) == []


@pytest.mark.parametrize(
    ("stamp", "reason"),
    [
        ("99999999999999999999", "does not fit InfluxDB's 64 bits"),
        ("9223372036854775807", "outside InfluxDB's range"),
    ],
)
def test_a_timestamp_beyond_64_bits_or_influxdbs_range_says_so(client, influx, token, stamp, reason):
    response = post(client, f"rack,site=pool,asset=a power_kw=1 {stamp}", token, query="precision=ns")
    assert response.status_code == 400
    got = response.json()["rejected"][0]["reason"]
    assert reason in got and "future" not in got


def test_a_line_older_than_influxdb_keeps_is_refused_not_dropped_later(
    client, influx, token, now_s, settings
):
    assert settings.INFLUX["RETENTION"] == "400d"
    old = now_s - 420 * 86_400
    response = post(
        client, f"rack,site=pool,asset=a power_kw=1 {old}\nrack,site=pool,asset=a power_kw=2 {now_s}", token
    )
    assert response.status_code == 400
    assert "older than InfluxDB keeps data" in response.json()["rejected"][0]["reason"]
    assert rack_power(influx) == [2.0]


@pytest.mark.parametrize(
    "header",
    [
        "Basic",
        "Basic ",
        "Basic !!!!",
        "Basic ééé",
        "Basic " + base64.b64encode(b"\xff\xfe:x").decode(),
        "Basic " + base64.b64encode(b"no-colon").decode(),
        "Basic dGVs ZWdyYWY=",
        "Token",
        "Token ",
        "Bearer hops_\x00",
        "Token hops_" + "ü" * 10,
        "Digest username=x",
        "hops_raw-token-without-scheme",
        " ",
        "Token " + "A" * 10_000,
    ],
)
def test_a_malformed_authorization_header_is_a_401_with_a_reason(
    client, influx, sites, header, now_s, caplog
):
    response = post(
        client, f"rack,site=pool,asset=a power_kw=1 {now_s}", None, headers={"Authorization": header}
    )
    assert response.status_code == 401
    assert "token" in response.json()["error"]
    assert not [r for r in caplog.records if r.levelname == "ERROR"]
    assert rack_power(influx) == []


def test_a_token_in_the_url_is_not_taken(client, influx, token, now_s):
    """Web servers log URLs: a token there would be in every access log."""
    url = reverse("ingest:write", args=["pool"]) + f"?precision=s&p={token}"
    response = client.post(url, data=f"rack,site=pool,asset=a power_kw=1 {now_s}", content_type="text/plain")
    assert response.status_code == 401
    assert rack_power(influx) == []


def test_a_telegraf_like_client_pings_creates_its_database_and_writes_gzip_with_basic_auth(
    live_server, influx, token, now_s
):
    """The sequence Telegraf's InfluxDB output (and the InfluxDB v1 clients) run, over HTTP."""
    base = f"{live_server.url}/ingest/pool"
    auth = ("telegraf", token)
    with httpx.Client(timeout=10) as http:
        ping = http.get(f"{base}/ping")
        assert ping.status_code == 204 and ping.headers["X-Influxdb-Version"].startswith("1.")
        created = http.post(f"{base}/query", data={"q": 'CREATE DATABASE "telegraf"'}, auth=auth)
        assert created.json() == {"results": [{"statement_id": 0}]}
        body = gzip.compress(f"weather,site=pool outdoor_temp_c=4.5 {now_s * 1000}\n".encode())
        written = http.post(
            f"{base}/write",
            params={"db": "telegraf", "rp": "autogen", "precision": "ms"},
            content=body,
            headers={"Content-Encoding": "gzip", "Content-Type": "text/plain; charset=utf-8"},
            auth=auth,
        )
        assert written.status_code == 204, written.text
    reading = influx.latest(lookback="1h", measurements=["weather"])[0]
    assert (reading.fields, reading.time_ms) == ({"outdoor_temp_c": 4.5}, now_s * 1000)


def test_a_batch_influxdb_refuses_after_acceptance_is_kept_counted_and_raised_on_the_site(
    client, admin_client, influx, sites, token, now_s
):
    """Something else wrote rack.power_kw as an integer into the same InfluxDB: heatops
    cannot know, answers 204, and InfluxDB then refuses the float. The batch is kept, the
    site gets an alarm on its dashboard and the refusal is listed for the operator."""
    influx.write_lines(f"rack,asset=x,site=pool power_kw=5i {now_s - 10}", precision="s")
    response = post(client, f"rack,asset=a,site=pool power_kw=1.5 {now_s}\n", token)
    assert response.status_code == 204  # the endpoint's own checks pass

    failed = list((get_spool().directory / "failed").iterdir())
    assert len(failed) == 1 and b"power_kw=1.5" in failed[0].read_bytes()
    refusal = IngestRefusal.objects.get()
    assert (refusal.site, refusal.lines, refusal.refused) == (sites["pool"], 1, 1)
    assert "field type conflict" in refusal.reason

    alarm = Alarm.objects.get(site=sites["pool"], rule__kind="system")
    assert alarm.title == "ingest: 1 line refused by InfluxDB after acceptance"
    page = admin_client.get(reverse("dashboard:site", args=["pool"])).content.decode()
    assert "ingest: 1 line refused by InfluxDB after acceptance" in page

    # a second refusal adds to the open alarm rather than raising another
    post(
        client,
        f"rack,asset=b,site=pool power_kw=2.5 {now_s}\nrack,asset=c,site=pool power_kw=3.5 {now_s}",
        token,
    )
    alarm.refresh_from_db()
    assert alarm.title == "ingest: 3 lines refused by InfluxDB after acceptance"
    assert Alarm.objects.filter(rule__kind="system").count() == 1
    listing = admin_client.get(reverse("admin:ingest_ingestrefusal_changelist")).content.decode()
    assert "2 refused batches" in listing


def test_clients_without_a_path_prefix_write_at_the_root_for_their_tokens_site(client, influx, token, now_s):
    response = client.post(
        "/write?db=x&precision=s",
        data=f"weather,site=pool outdoor_temp_c=2.5 {now_s}",
        content_type="text/plain",
        headers={"Authorization": f"Token {token}"},
    )
    assert response.status_code == 204
    assert influx.latest(lookback="1h", measurements=["weather"])[0].fields == {"outdoor_temp_c": 2.5}
    assert (
        client.post(
            "/write", data="weather,site=pool outdoor_temp_c=1", content_type="text/plain"
        ).status_code
        == 401
    )
    assert client.get("/ping")["X-Influxdb-Version"].startswith("1.")


def test_the_influx_cli_writes_through_the_root_paths(live_server, influx, token, now_s):
    """The InfluxDB 1.x shell (Debian's influxdb-client) cannot take a path prefix."""
    binary = shutil.which("influx")
    assert binary, "deploy/bootstrap --dev installs influxdb-client"
    port = urlsplit(live_server.url).port
    done = subprocess.run(
        [
            binary,
            "-host",
            "127.0.0.1",
            "-port",
            str(port),
            "-username",
            "agent",
            "-password",
            token,
            "-database",
            "telegraf",
            "-precision",
            "s",
            "-execute",
            f"INSERT weather,site=pool outdoor_temp_c=6.5 {now_s}",
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    reading = influx.latest(lookback="1h", measurements=["weather"])[0]
    assert (reading.fields, reading.time_ms) == ({"outdoor_temp_c": 6.5}, now_s * 1000)


def test_a_deactivated_site_takes_no_telemetry(client, influx, sites, token, now_s):
    sites["pool"].is_active = False
    sites["pool"].save()
    response = post(client, f"weather,site=pool outdoor_temp_c=1 {now_s}", token)
    assert response.status_code == 403 and "deactivated" in response.json()["error"]
    assert influx.latest(lookback="1h", measurements=["weather"]) == []


def test_a_batch_under_the_ingest_limit_is_taken_even_above_djangos_form_limit(
    client, influx, token, now_s, settings
):
    assert settings.DATA_UPLOAD_MAX_MEMORY_SIZE < 4 * 1024 * 1024 < settings.HEATOPS_INGEST_MAX_BYTES
    lines = [f"rack,asset=a{i % 50},site=pool power_kw={i % 97}.25 {now_s - i // 50}" for i in range(100_000)]
    body = "\n".join(lines)
    assert len(body) > 4 * 1024 * 1024
    assert post(client, body, token).status_code == 204
    count = influx.select("SELECT count(power_kw) FROM rack")[0].values[0][1]
    assert count == 100_000
