"""What production lives through, on the real stack (Daphne, the pump, Redis, InfluxDB, each
its own process; Chromium for the page): Redis down for half a minute, and a web process
killed right after it answered 204 to an agent.

No timing assertions: every wait is bounded polling for what a person would see.
"""

from __future__ import annotations

import signal
import time
from datetime import UTC, datetime

import httpx
from playwright.sync_api import expect

from apps.telemetry.influx.client import InfluxClient
from apps.telemetry.influx.points import Point
from heatops.devservices.base import free_port
from heatops.devstack import ADMIN_PASSWORD, stack

REDIS_DOWN_S = 30


def _alarm_to_acknowledge(s) -> None:
    s.django_shell(
        "from datetime import UTC, datetime\n"
        "from apps.alarms.models import AlarmRule\n"
        "from apps.alarms.services import alarm_raise\n"
        "rule = AlarmRule.objects.filter(site__slug='pool').order_by('pk').first()\n"
        "print(alarm_raise(rule=rule, value=0, detail='', now=datetime.now(UTC)).pk)"
    )


def log_in(page, base: str) -> None:
    page.goto(base + "/accounts/login/")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", ADMIN_PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("h1")).to_have_text("Portfolio")


def write_power(s, kw: float) -> None:
    agent = InfluxClient(url=s.influx_url, database=s.database, retention_policy="heatops")
    agent.write(
        [
            Point(
                "facility", {"site": "pool"}, {"it_power_kw": kw, "total_power_kw": kw + 5}, datetime.now(UTC)
            )
        ]
    )


def test_pages_and_acknowledgements_work_without_redis_and_live_updates_resume_by_themselves(
    services, stack_database, browser
):
    with (
        stack_database("redis_down") as database_url,
        stack(
            pump=True,
            influx_url=services["influx_url"],  # Redis is the stack's own: this test stops it
            database="redis_down",
            database_url=database_url,
            extra_env={"HEATOPS_PUMP_TICK_S": "0.25"},
            before_start=_alarm_to_acknowledge,
        ) as s,
    ):
        assert s.redis is not None
        alarm_pk = int(s.django_shell("from apps.alarms.models import Alarm; print(Alarm.objects.get().pk)"))
        page = browser.new_page(viewport={"width": 1600, "height": 1000})
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        log_in(page, s.web_url)
        page.goto(s.web_url + "/sites/pool/")
        page.wait_for_function("() => document.querySelector('#live-points') !== null")
        write_power(s, 11.1)
        expect(page.locator("#q-power .number")).to_have_text("11.1 kW", timeout=15_000)
        page.evaluate("() => { window.notReloaded = true; }")

        s.redis.stop()
        stopped = time.monotonic()
        expect(page.locator("#connection")).to_be_visible(timeout=20_000)  # "live connection lost"

        other = browser.new_page()  # the same admin, a second browser, while Redis is down
        log_in(other, s.web_url)
        for path in ("/", "/sites/pool/", "/alarms/", f"/alarms/{alarm_pk}/", "/incidents/"):
            response = other.goto(s.web_url + path)
            assert response.status == 200, path
        other.goto(s.web_url + f"/alarms/{alarm_pk}/")
        other.on("dialog", lambda d: d.accept("Redis is down, I am on it"))
        other.locator(".alarm .ack").first.click()
        expect(other.locator("#toast")).to_contain_text("Acknowledged")
        state = s.django_shell(
            f"from apps.alarms.models import Alarm; print(Alarm.objects.get(pk={alarm_pk}).state)"
        )
        assert state == "acknowledged"

        time.sleep(max(0.0, REDIS_DOWN_S - (time.monotonic() - stopped)))  # the outage lasts its 30 s
        s.redis.start()

        write_power(s, 22.2)
        expect(page.locator("#connection")).to_be_hidden(timeout=30_000)
        expect(page.locator("#q-power .number")).to_have_text("22.2 kW", timeout=30_000)
        assert page.evaluate("() => window.notReloaded === true"), "the page reloaded"
        # and it keeps updating: the next value too
        write_power(s, 33.3)
        expect(page.locator("#q-power .number")).to_have_text("33.3 kW", timeout=15_000)
        assert page.evaluate("() => window.notReloaded === true")
        assert errors == []


def _points(s, measurement: str) -> list[float]:
    reader = InfluxClient(url=s.influx_url, database=s.database, retention_policy="heatops")
    (series,) = reader.query(f'SELECT "it_power_kw" FROM "{measurement}" WHERE "site" = \'pool\'')
    return sorted(row["it_power_kw"] for one in series for row in one.rows())


def test_a_web_process_killed_right_after_a_204_delivers_those_lines_once_restarted(services, stack_database):
    """Write-behind on (as in production): the 204 means the batch is fsynced in the spool.
    The first process sees no InfluxDB (its URL is a closed port), so at the moment it is
    killed (SIGKILL: no clean-up of any kind) the lines exist only in the spool; the
    process started in its place, with the real InfluxDB, delivers them by itself."""
    with (
        stack_database("spool_kill") as database_url,
        stack(
            web=False,
            influx_url=services["influx_url"],
            redis_url=services["redis_url"],
            database="spool_kill",
            database_url=database_url,
            extra_env={"HEATOPS_INGEST_WRITE_BEHIND": "1"},
        ) as s,
    ):
        token = s.django_shell(
            "from apps.ingest.services import ingest_token_issue\n"
            "from apps.sites.models import Site\n"
            "print(ingest_token_issue(site=Site.objects.get(slug='pool'), name='agent')[1])"
        )
        real_influx = s.env["INFLUX_URL"]
        s.env["INFLUX_URL"] = f"http://127.0.0.1:{free_port()}"
        first = s.serve("heatops.asgi:application", "daphne-first", ready_path="/ingest/pool/ping")
        t = int(time.time())
        body = f"facility,site=pool it_power_kw=41.5 {t - 2}\nfacility,site=pool it_power_kw=42.5 {t - 1}\n"
        response = httpx.post(
            f"{first}/ingest/pool/write?precision=s",
            content=body,
            headers={"Authorization": f"Token {token}"},
            timeout=10,
        )
        assert response.status_code == 204, response.text
        s.procs["daphne-first"].send_signal(signal.SIGKILL)
        s.procs["daphne-first"].wait(timeout=10)
        spooled = [p for p in (s.root / "spool").rglob("*") if p.is_file() and "failed" not in p.parts]
        assert spooled, "a 204 was answered but nothing is in the spool"
        assert _points(s, "facility") == []

        s.env["INFLUX_URL"] = real_influx
        s.serve("heatops.asgi:application", "daphne-second", ready_path="/ingest/pool/ping")
        deadline = time.monotonic() + 30
        while _points(s, "facility") != [41.5, 42.5] and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _points(s, "facility") == [41.5, 42.5]
