"""The telemetry module against a real InfluxDB."""

from __future__ import annotations

from datetime import timedelta

import pytest

from apps.telemetry import schema
from apps.telemetry.influx.client import InfluxClient
from apps.telemetry.influx.errors import InfluxQueryError, InfluxUnavailable, InfluxWriteError
from apps.telemetry.influx.points import Point
from heatops.devservices.base import free_port

AWKWARD = [
    'Pool "North", Hall 2',
    "a=b,c=d",
    "it's",
    "back\\slash",
    "x\\,y",
    " leading and  double spaces",
    "ünïcødé ☃ 水",
    "o' OR 1=1 --",
    '"; DROP DATABASE x',
]


def sample_value(field: schema.Field, i: int):
    return (i % 2 == 0) if field.type == "bool" else 10.5 + i


def test_every_measurement_round_trips_through_the_schema(influx, now):
    """A point for every measurement with every field comes back from latest() intact."""
    points = []
    for i, spec in enumerate(schema.MEASUREMENTS.values()):
        tags = {tag: f"{tag}-{i}" for tag in spec.tags} | {"site": "pool"}
        fields = {name: sample_value(f, i) for name, f in spec.fields.items()}
        schema.validate(spec.name, tags, fields)
        points.append(Point(spec.name, tags, fields, now - timedelta(seconds=i)))
    assert influx.write(points) == len(points)

    readings = {r.measurement: r for r in influx.latest(lookback="1h")}
    assert set(readings) == set(schema.MEASUREMENTS)
    for point in points:
        reading = readings[point.measurement]
        assert reading.tags == dict(point.tags)
        assert reading.fields == dict(point.fields)
        assert reading.time == point.time


def test_latest_answers_every_series_of_every_site_in_one_query(influx, now):
    older, newer = now - timedelta(seconds=30), now - timedelta(seconds=5)
    influx.write(
        [
            Point("rack", {"site": site, "asset": rack}, {"power_kw": kw}, t)
            for site in ("pool", "school")
            for rack in ("rack-a", "rack-b")
            for kw, t in ((1.0, older), (2.0, newer))
        ]
    )
    before = influx.queries
    readings = influx.latest(lookback="10m")
    assert influx.queries - before == 1
    assert {(r.tags["site"], r.tags["asset"]): r.fields["power_kw"] for r in readings} == {
        ("pool", "rack-a"): 2.0,
        ("pool", "rack-b"): 2.0,
        ("school", "rack-a"): 2.0,
        ("school", "rack-b"): 2.0,
    }
    assert {r.time for r in readings} == {newer}


def test_latest_leaves_out_series_older_than_the_lookback(influx, now):
    influx.write(
        [
            Point("weather", {"site": "pool"}, {"outdoor_temp_c": 4.0}, now - timedelta(hours=2)),
            Point("weather", {"site": "school"}, {"outdoor_temp_c": 6.0}, now - timedelta(minutes=1)),
        ]
    )
    assert [r.tags["site"] for r in influx.latest(lookback="1h")] == ["school"]
    # the hour counts back from heatops' now, never from InfluxDB's own clock
    earlier = influx.latest(lookback="1h", now=now - timedelta(hours=2))
    assert sorted(r.tags["site"] for r in earlier) == ["pool", "school"]


@pytest.mark.parametrize("value", AWKWARD)
def test_awkward_tag_values_are_written_and_read_back_intact(influx, value, now):
    influx.write(
        [
            Point("consumer", {"site": value}, {"demand_kw": 42.0}, now),
            Point("consumer", {"site": "other"}, {"demand_kw": 1.0}, now),
        ]
    )
    readings = influx.latest(lookback="1h", tags={"site": value})
    assert [(r.tags, r.fields) for r in readings] == [({"site": value}, {"demand_kw": 42.0})]

    series = influx.window(
        measurement="consumer",
        fields=["demand_kw"],
        tags={"site": value},
        start=now - timedelta(minutes=1),
        end=now + timedelta(minutes=1),
        every="1m",
    )
    assert [v for s in series for _, v in s.values] == [42.0]


def test_a_site_name_built_to_inject_cannot_widen_a_query(influx, now):
    influx.write([Point("weather", {"site": "pool"}, {"outdoor_temp_c": 3.0}, now)])
    for hostile in ["x' OR site =~ /.*/ --", "x'; DROP DATABASE heatops; --", "x\\' OR 1=1"]:
        assert influx.latest(lookback="1h", tags={"site": hostile}) == []
    assert influx.latest(lookback="1h", tags={"site": "pool"})[0].fields == {"outdoor_temp_c": 3.0}


def test_values_line_protocol_cannot_carry_are_refused_before_sending(influx):
    with pytest.raises(ValueError, match="line break"):
        Point("weather", {"site": "a\nb"}, {"outdoor_temp_c": 1.0}).to_line()
    with pytest.raises(ValueError, match="backslash"):
        Point("weather", {"site": "end\\"}, {"outdoor_temp_c": 1.0}).to_line()
    with pytest.raises(ValueError, match="finite"):
        Point("weather", {"site": "a"}, {"outdoor_temp_c": float("nan")}).to_line()
    with pytest.raises(ValueError, match="duration"):
        influx.latest(lookback="1 hour; DROP DATABASE x")


def test_window_downsamples_inside_influxdb(influx, now):
    start = now.replace(second=0) - timedelta(minutes=10)
    # 10 minutes at 10 s: minute m holds values m*6 .. m*6+5
    influx.write(
        Point(
            "rack",
            {"site": "pool", "asset": "rack-a"},
            {"power_kw": float(i)},
            start + timedelta(seconds=10 * i),
        )
        for i in range(60)
    )
    series = influx.window(
        measurement="rack",
        fields=["power_kw"],
        tags={"site": "pool"},
        start=start,
        end=start + timedelta(minutes=10),
        every="1m",
        group_by=["asset"],
    )
    assert len(series) == 1 and series[0].tags == {"asset": "rack-a"}
    means = [v for _, v in series[0].values]
    assert means == [m * 6 + 2.5 for m in range(10)]
    assert series[0].values[0][0] == int(start.timestamp() * 1000)


def test_unreachable_influxdb_raises_influx_unavailable_naming_the_url():
    port = free_port()  # nothing listens here
    client = InfluxClient(url=f"http://127.0.0.1:{port}", database="heatops", timeout=1)
    assert client.ping() is False
    with pytest.raises(InfluxUnavailable, match=f"127.0.0.1:{port}.*unreachable"):
        client.latest()
    with pytest.raises(InfluxUnavailable, match="unreachable"):
        client.write([Point("weather", {"site": "pool"}, {"outdoor_temp_c": 1.0})])


def test_influxdb_errors_carry_its_own_words(influx):
    with pytest.raises(InfluxQueryError, match="error parsing query"):
        influx.select("SELEC nonsense")
    with pytest.raises(InfluxWriteError, match="unable to parse"):
        influx.write_lines("this is not line protocol")
    missing = InfluxClient(url=influx.url, database="no_such_database")
    with pytest.raises(InfluxQueryError, match="database not found"):
        missing.latest()


def test_ensure_database_is_repeatable_and_sets_the_retention_policy(influx):
    influx.ensure_database(retention="30d")
    influx.ensure_database(retention="30d")
    policies = {
        row["name"]: row
        for s in influx.select(f'SHOW RETENTION POLICIES ON "{influx.database}"')
        for row in s.rows()
    }
    assert policies["heatops"]["default"] is True
    assert policies["heatops"]["duration"] == "720h0m0s"
