"""The live pages over HTTP, against the real InfluxDB."""

import json
from datetime import timedelta

import pytest
from django.urls import reverse

from apps.telemetry.influx.points import Point

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "name", ["dashboard:portfolio", "dashboard:site", "dashboard:site_history", "dashboard:site_capacity"]
)
def test_anonymous_people_are_sent_to_log_in_and_see_no_site_name(client, demo_sites, name):
    url = reverse(name, args=["pool"]) if name != "dashboard:portfolio" else reverse(name)
    response = client.get(url)
    assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:login"))
    assert b"Northgate" not in response.content


def test_a_person_sees_only_their_sites(client, influx, pool_user):
    client.force_login(pool_user)
    page = client.get(reverse("dashboard:portfolio")).content.decode()
    assert "Northgate Leisure Pool" in page and "St Aidan" not in page
    for name in ("dashboard:site", "dashboard:site_history", "dashboard:site_capacity"):
        assert client.get(reverse(name, args=["school"])).status_code == 404
        assert client.get(reverse(name, args=["no-such-site"])).status_code == 404


def test_the_site_page_answers_the_four_questions_from_influxdb(client, influx, pool_user, now):
    influx.write(
        [
            Point("facility", {"site": "pool"}, {"it_power_kw": 61.3}, now),
            Point("heat_meter", {"site": "pool", "asset": "meter-1"}, {"power_kw": 57.2}, now),
            Point(
                "loop",
                {"site": "pool", "loop": "primary"},
                {"supply_temp_c": 50.0, "return_temp_c": 40.0, "delta_t_k": 10.0, "flow_m3h": 5.0},
                now,
            ),
            Point(
                "consumer", {"site": "pool"}, {"demand_kw": 50.0, "delivered_kw": 49.0, "online": True}, now
            ),
        ]
    )
    client.force_login(pool_user)
    page = client.get(reverse("dashboard:site", args=["pool"])).content.decode()
    assert "61.3 kW" in page and "57.2 kW" in page and "ΔT 10.0 K" in page
    assert "Receiving 49.0 kW of the 50.0 kW it asks for" in page
    assert 'ws-connect="/ws/sites/pool/"' in page
    assert "InfluxDB cannot be reached" not in page
    assert "/static/vendor/plotly/plotly.min.js" in page and "cdn" not in page.lower()


def test_history_is_downsampled_inside_influxdb_for_each_range(client, influx, pool_user, now):
    start = now - timedelta(minutes=30)
    influx.write(
        Point("facility", {"site": "pool"}, {"it_power_kw": float(i % 6)}, start + timedelta(seconds=10 * i))
        for i in range(180)
    )
    client.force_login(pool_user)
    body = client.get(reverse("dashboard:site_history", args=["pool"]), {"range": "1h"}).json()
    assert body["every"] == "10s"
    assert sorted(set(body["series"]["it_kw"]["v"])) == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
    day = client.get(reverse("dashboard:site_history", args=["pool"]), {"range": "24h"}).json()
    assert day["every"] == "2m" and all(v == pytest.approx(2.5) for v in day["series"]["it_kw"]["v"][1:-1])
    since = int((now - timedelta(minutes=5)).timestamp() * 1000)
    missed = client.get(
        reverse("dashboard:site_history", args=["pool"]), {"range": "1h", "since": since}
    ).json()
    assert min(missed["series"]["it_kw"]["t"]) >= since - 10_000 and len(missed["series"]["it_kw"]["t"]) <= 31
    bad = client.get(reverse("dashboard:site_history", args=["pool"]), {"range": "1y"})
    assert bad.status_code == 400 and "range must be one of" in bad.json()["error"]


def test_capacity_projection_states_its_assumptions(client, influx, pool_user, now):
    influx.write(
        Point("consumer", {"site": "pool"}, {"demand_kw": 40.0}, now - timedelta(hours=h))
        for h in range(1, 48)
    )
    influx.write([Point("tank", {"site": "pool", "asset": "tank-1"}, {"soc_pct": 50.0}, now)])
    client.force_login(pool_user)
    page = client.get(reverse("dashboard:site_capacity", args=["pool"])).content.decode()
    # 40 kW demand + 90 kW dry cooler + half of a 6000 l tank over 20 K (69.7 kWh / 24 h = 2.9 kW)
    assert "at least <strong>133 kW</strong>" in page
    assert "mean at that hour over the last 7 days" in page and "can reject 90 kW" in page


def test_capacity_counts_a_stopped_pump_or_an_offline_consumer_until_it_clears(
    client, influx, pool_user, now
):
    """With the pump failed the projection says nothing can be absorbed, and why; with the
    consumer offline only the dump path and the tank count; both clear with the fault."""
    influx.write(
        Point("consumer", {"site": "pool"}, {"demand_kw": 40.0}, now - timedelta(hours=h))
        for h in range(1, 48)
    )
    influx.write([Point("tank", {"site": "pool", "asset": "tank-1"}, {"soc_pct": 50.0}, now)])
    client.force_login(pool_user)

    def capacity(**points):
        influx.write([Point(m, t, f, now) for m, (t, f) in points.items()])
        return client.get(reverse("dashboard:site_capacity", args=["pool"])).content.decode()

    failed = capacity(
        pump=({"site": "pool", "asset": "pump-primary"}, {"running": False, "speed_pct": 0.0}),
        loop=({"site": "pool", "loop": "primary"}, {"flow_m3h": 0.0}),
        facility=({"site": "pool"}, {"it_power_kw": 2.8}),
    )
    assert "can absorb nothing now" in failed and "the primary pump is stopped" in failed
    assert "at least <strong>145 kW" not in failed and "2.8 kW" in failed
    chart = json.loads(failed.split('id="capacity-data" type="application/json">')[1].split("</script>")[0])
    assert set(chart["dump"]) == set(chart["tank"]) == set(chart["absorbable"]) == {0.0}  # the chart agrees

    offline = capacity(
        pump=({"site": "pool", "asset": "pump-primary"}, {"running": True, "speed_pct": 60.0}),
        loop=({"site": "pool", "loop": "primary"}, {"flow_m3h": 6.0}),
        consumer=({"site": "pool"}, {"online": False, "demand_kw": 40.0}),
    )
    # 90 kW dry cooler + 2.9 kW of tank headroom, the consumer's 40 kW not counted
    assert "Reduced by a fault" in offline and "at least <strong>93 kW</strong>" in offline
    assert "The heat consumer is offline" in offline

    cleared = capacity(consumer=({"site": "pool"}, {"online": True, "demand_kw": 40.0}))
    assert "at least <strong>133 kW</strong>" in cleared and "fault" not in cleared


def test_when_influxdb_is_down_the_page_says_so(client, pool_user, settings):
    from heatops.devservices.base import free_port

    settings.INFLUX = {**settings.INFLUX, "URL": f"http://127.0.0.1:{free_port()}", "TIMEOUT": 1}
    client.force_login(pool_user)
    page = client.get(reverse("dashboard:site", args=["pool"])).content.decode()
    assert "InfluxDB cannot be reached" in page and "No recent data" in page
    assert client.get(reverse("dashboard:site_history", args=["pool"])).status_code == 503
