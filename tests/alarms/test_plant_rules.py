"""Two default rules on real telemetry (points in the real InfluxDB, the pump's snapshot,
the evaluator, the database): a node throttling its workload raises an alarm; a consumer
not taking heat raises one unless the dump path is open and holding the loop, the safe
degrade the plant is designed for (a school on a Sunday)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from apps.alarms import evaluation
from apps.alarms.defaults import alarm_rules_create_defaults
from apps.alarms.models import Alarm
from apps.telemetry.influx.points import Point
from apps.telemetry.pump import TelemetryPump

pytestmark = pytest.mark.django_db
CONSUMER_RULE = "Consumer not absorbing heat"


@pytest.fixture
def pool(demo_sites):
    site = demo_sites["pool"]
    alarm_rules_create_defaults(site=site)
    return site


def tick(influx, handler, at) -> None:
    TelemetryPump(client=influx, handlers=[handler]).tick(now=at)


def open_titles() -> set[str]:
    return set(Alarm.objects.filter(condition_active=True).values_list("title", flat=True))


def test_a_throttled_node_raises_its_alarm_after_a_minute_and_clears_when_it_stops(
    influx, pool, now, django_capture_on_commit_callbacks
):
    node = pool.assets.filter(kind="node").order_by("slug").first()
    title = f"{node.name} throttled"
    handler = evaluation.AlarmEvaluation()

    def node_at(seconds: int, throttled: bool) -> None:
        at = now - timedelta(minutes=5) + timedelta(seconds=seconds)
        tags = {"site": "pool", "asset": node.slug}
        influx.write([Point("node", tags, {"throttled": throttled, "power_kw": 2.0}, at)])
        with django_capture_on_commit_callbacks(execute=True):
            tick(influx, handler, at)

    node_at(0, True)
    node_at(30, True)
    assert title not in open_titles()  # not yet a minute
    node_at(61, True)
    assert title in open_titles()
    alarm = Alarm.objects.get(title=title)
    assert (alarm.asset, alarm.domain, alarm.severity) == (node, "compute", "major")
    assert "node.throttled = 1" in alarm.message
    node_at(90, False)
    assert title not in open_titles()  # cleared (resolved once it stays clear)


# (return temperature, primary supply, dry cooler open) per minute from the start
SCENARIOS = {
    # the building takes no heat, the tank is full, nothing rejects it: the loop heats up
    "dump path closed": (lambda m: 30 + 0.5 * m, lambda m: 40 + 0.5 * m, False, True),
    # a school on a Sunday: the dry cooler has opened and holds the supply at its set point
    "dump path open and holding": (lambda m: 30 + 0.5 * m, lambda m: 41.5, True, False),
    # the dry cooler is open but cannot keep up: the supply climbs regardless
    "dump path open, not holding": (lambda m: 30 + 0.5 * m, lambda m: 41.5 + 0.6 * m, True, True),
}


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_a_consumer_not_absorbing_heat_is_an_alarm_unless_the_dump_path_holds_the_loop(
    influx, pool, now, scenario, django_capture_on_commit_callbacks
):
    return_c, supply_c, dump_open, fires = SCENARIOS[scenario]
    tank = pool.assets.get(kind="buffer_tank")
    cooler = pool.assets.get(kind="dry_cooler")
    handler = evaluation.AlarmEvaluation()
    start = now - timedelta(minutes=10)
    for k in range(21):  # ten minutes, a point and a tick every 30 s
        at, minutes = start + timedelta(seconds=30 * k), k / 2
        influx.write(
            [
                Point(
                    "loop",
                    {"site": "pool", "loop": "primary"},
                    {"return_temp_c": return_c(minutes), "supply_temp_c": supply_c(minutes)},
                    at,
                ),
                Point("tank", {"site": "pool", "asset": tank.slug}, {"soc_pct": 97.0}, at),
                Point("facility", {"site": "pool"}, {"it_power_kw": 40.0}, at),
                Point("consumer", {"site": "pool"}, {"online": True, "delivered_kw": 0.0}, at),
                Point(
                    "dry_cooler",
                    {"site": "pool", "asset": cooler.slug},
                    {"active": dump_open, "heat_kw": 35.0 if dump_open else 0.0},
                    at,
                ),
            ]
        )
        with django_capture_on_commit_callbacks(execute=True):
            tick(influx, handler, at)
    assert (CONSUMER_RULE in open_titles()) is fires, scenario
    if fires:
        message = Alarm.objects.get(title=CONSUMER_RULE).message
        assert "loop.return_temp_c rising" in message and "tank.soc_pct = 97" in message


def test_a_server_gone_quiet_while_its_site_reports_raises_its_not_reporting_alarm(
    influx, pool, now, django_capture_on_commit_callbacks
):
    """Node A1 stops after its first point; node A2 and the facility feed go on."""
    a1, a2 = pool.assets.filter(kind="node").order_by("pk")[:2]
    handler = evaluation.AlarmEvaluation()
    start = now - timedelta(minutes=10)

    def second(seconds: int, *, a1_too: bool) -> None:
        at = start + timedelta(seconds=seconds)
        points = [
            Point("facility", {"site": "pool"}, {"it_power_kw": 40.0}, at),
            Point("node", {"site": "pool", "asset": a2.slug}, {"power_kw": 5.0}, at),
        ]
        if a1_too:
            points.append(Point("node", {"site": "pool", "asset": a1.slug}, {"power_kw": 5.0}, at))
        influx.write(points)
        with django_capture_on_commit_callbacks(execute=True):
            tick(influx, handler, at)

    second(0, a1_too=True)
    for s in range(10, 121, 10):
        second(s, a1_too=False)
    assert f"{a1.name} not reporting" not in open_titles()  # two minutes exactly: not yet
    second(130, a1_too=False)
    assert open_titles() >= {f"{a1.name} not reporting"}
    assert f"{a2.name} not reporting" not in open_titles()
    alarm = Alarm.objects.get(title=f"{a1.name} not reporting")
    assert (alarm.asset, alarm.domain, alarm.severity) == (a1, "compute", "minor")
    second(140, a1_too=True)  # back in its rack
    assert f"{a1.name} not reporting" not in open_titles()


def test_a_whole_site_gone_quiet_is_one_telemetry_alarm_not_one_per_server(
    influx, pool, now, django_capture_on_commit_callbacks
):
    nodes = list(pool.assets.filter(kind="node"))
    handler = evaluation.AlarmEvaluation()
    start = now - timedelta(minutes=10)
    points = [Point("facility", {"site": "pool"}, {"it_power_kw": 40.0}, start)]
    points += [Point("node", {"site": "pool", "asset": n.slug}, {"power_kw": 5.0}, start) for n in nodes]
    influx.write(points)
    for s in range(0, 301, 10):  # nothing arrives for five minutes
        with django_capture_on_commit_callbacks(execute=True):
            tick(influx, handler, start + timedelta(seconds=s))
    titles = open_titles()
    assert "Site telemetry missing" in titles
    assert not {t for t in titles if t.endswith("not reporting")}


def test_servers_never_instrumented_raise_nothing_while_the_site_reports(
    influx, pool, now, django_capture_on_commit_callbacks
):
    handler = evaluation.AlarmEvaluation()
    start = now - timedelta(minutes=10)
    for s in range(0, 301, 10):  # the site reports; no node has ever sent a point
        at = start + timedelta(seconds=s)
        influx.write([Point("facility", {"site": "pool"}, {"it_power_kw": 40.0}, at)])
        with django_capture_on_commit_callbacks(execute=True):
            tick(influx, handler, at)
    assert not {t for t in open_titles() if t.endswith("not reporting")}
