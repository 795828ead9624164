"""A commissioning drill on the demo pool in real Chromium against the real stack: Daphne,
the telemetry pump (alarm evaluation), the live simulator, a Celery worker with beat (the
drill task) and InfluxDB/Redis, each its own process. The drill plays every scenario
through the simulator's faults, records step by step which alarms fired within their
limits with their runbooks, shows the result on the site page, and leaves no fault active."""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import expect

from heatops.devstack import ADMIN_PASSWORD, _spawn, stack

from .conftest import ARTIFACTS

# the rules fire as soon as they see it; short limits and pauses, so the drill takes minutes
FAST = """
from apps.alarms.models import AlarmRule
from apps.drills.models import ChecklistItem
AlarmRule.objects.update(for_seconds=0)
AlarmRule.objects.filter(name="Site telemetry missing").update(stale_after_s=6)
AlarmRule.objects.filter(name__endswith=" not reporting").update(stale_after_s=6)
ChecklistItem.objects.update(time_limit_s=45)
ChecklistItem.objects.filter(expected_rule__isnull=True).update(time_limit_s=10)
"""


def _own_redis_db(url: str, db: int = 8) -> str:
    return re.sub(r"(/\d+)?$", f"/{db}", url, count=1)


@pytest.fixture(scope="module")
def live(services, stack_database):
    import redis

    redis_url = _own_redis_db(services["redis_url"])
    redis.Redis.from_url(redis_url).flushdb()
    with (
        stack_database("drills") as database_url,
        stack(
            pump=True,
            influx_url=services["influx_url"],
            redis_url=redis_url,
            database="drills",
            database_url=database_url,
            extra_env={
                "HEATOPS_PUMP_TICK_S": "0.5",
                "HEATOPS_DRILL_SETTLE_S": "4",
                "HEATOPS_STALE_AFTER_S": "5",
            },
            before_start=lambda s: s.django_shell(FAST),
        ) as s,
    ):
        s.procs["sim"] = _spawn(
            ["manage.py", "simulate", "--sites", "pool", "--interval", "1", "--speed", "30"],
            s.env,
            s.root,
            "sim",
        )
        s.procs["worker"] = _spawn(
            [
                "-m",
                "celery",
                "-A",
                "heatops",
                "worker",
                "-B",
                "--pool",
                "solo",
                "-Q",
                "celery",
                "--loglevel",
                "WARNING",
                "--schedule",
                str(s.root / "beat-schedule"),
            ],
            s.env,
            s.root,
            "worker",
        )
        yield s


STATE = """
import json
from apps.drills.models import Drill
from apps.simulator.models import SimulatedFault
d = Drill.objects.filter(mode="simulated").exclude(note="demo record").get()
print(json.dumps({"state": d.state, "steps": {s.scenario: [s.result, s.detail] for s in d.steps.all()},
    "active": list(SimulatedFault.objects.filter(cleared_at__isnull=True).values_list("kind", flat=True)),
    "injected": sorted(SimulatedFault.objects.values_list("kind", flat=True))}))
"""


def test_a_drill_on_the_demo_pool_runs_through_the_simulator_and_records_its_result(live, browser):
    page = browser.new_page(viewport={"width": 1600, "height": 1000})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(live.web_url + "/accounts/login/")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", ADMIN_PASSWORD)
    page.click("button[type=submit]")
    page.goto(live.web_url + "/sites/pool/")
    expect(page.locator(".site-note")).to_contain_text(
        re.compile(r"Last drill: 5 of 6 passed, \d{4}-\d\d-\d\d")
    )
    page.click("text=commissioning")
    expect(page.locator("#checklist tbody tr")).to_have_count(6)
    page.wait_for_timeout(8000)  # the simulator has written the plant's first readings
    page.click("#run-drill")
    running = page.locator("section.drill-running")
    expect(running).to_have_count(1)
    # the first scenario runs; with rules that fire at once it may already have passed
    # by the page's next poll (every 3 s)
    expect(running.locator('tr[data-scenario="pump_stopped"] .result')).to_have_text(
        re.compile("Running|Passed"), timeout=15_000
    )
    page.screenshot(path=str(ARTIFACTS / "drill-running.png"), full_page=True)
    finished = page.locator(f"section#{running.get_attribute('id')}.drill-finished")
    expect(finished).to_be_visible(timeout=420_000)  # the page polls the running drill until it ends
    page.screenshot(path=str(ARTIFACTS / "drill-finished.png"), full_page=True)

    state = json.loads(live.django_shell(STATE))
    assert state["state"] == "finished" and state["active"] == []  # the simulator is back to normal
    assert state["injected"] == sorted(
        [
            "pump-failure",
            "consumer-offline",
            "stuck-sensor",
            "lost-telemetry",
            "server-removed",
            "overheating",
        ]
    )
    steps = state["steps"]
    assert steps["pump_stopped"][0] == "passed", steps
    assert steps["consumer_offline"][0] == "passed", steps
    assert steps["telemetry_lost"][0] == "passed", steps
    assert steps["overheating"][0] == "passed" and "inlet too hot" in steps["overheating"][1], steps
    assert steps["sensor_failed"] == ["failed", "no alarm rule is set to catch this"]
    assert steps["server_removed"][0] == "passed" and "Node A1 not reporting" in steps["server_removed"][1], steps
    summary = finished.locator(".drill-summary").inner_text()
    passed = sum(r == "passed" for r, _ in steps.values())
    assert summary == f"{passed} of 6 passed"
    page.goto(live.web_url + "/sites/pool/")
    expect(page.locator(".site-note")).to_contain_text(f"Last drill: {passed} of 6 passed")
    page.screenshot(path=str(ARTIFACTS / "drill-site-page.png"))
    assert errors == []
