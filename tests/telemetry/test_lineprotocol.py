import pytest

from apps.telemetry.influx import Point
from apps.telemetry.lineprotocol import LineProtocolError, parse_line


def test_a_plain_telegraf_line_parses():
    p = parse_line("rack,site=pool,asset=rack-a power_kw=12.5,inlet_temp_c=31i 1700000000000000000")
    assert (p.measurement, p.tags, p.fields, p.timestamp) == (
        "rack",
        {"site": "pool", "asset": "rack-a"},
        {"power_kw": 12.5, "inlet_temp_c": 31},
        1700000000000000000,
    )


def test_escapes_strings_and_booleans_parse():
    p = parse_line(r'my\ meas,site=Pool\ "North"\,\ Hall\=2 note="say \"hi\", ok",on=t,off=FALSE,n=-3u')
    assert p.measurement == "my meas"
    assert p.tags == {"site": 'Pool "North", Hall=2'}
    assert p.fields == {"note": 'say "hi", ok', "on": True, "off": False, "n": -3}
    assert p.timestamp is None


@pytest.mark.parametrize(
    "tags",
    [{"site": 'Pool "North", Hall 2'}, {"site": "a=b,c"}, {"site": "ünï ☃"}, {"site": "back\\slash x"}],
)
def test_what_influx_py_writes_parses_back_to_the_same_point(tags):
    line = Point("consumer", tags, {"demand_kw": 4.5, "online": True}, 1_700_000_000_000_000_000).to_line()
    p = parse_line(line)
    assert (p.measurement, p.tags, p.fields, p.timestamp) == (
        "consumer",
        tags,
        {"demand_kw": 4.5, "online": True},
        1_700_000_000_000_000_000,
    )


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("rack,site=pool", "separated by single spaces"),
        ("rack,site=pool power_kw=1 123 extra", "separated by single spaces"),
        ("rack,site power_kw=1", "not key=value"),
        ("rack,site=pool power_kw", "not key=value"),
        ("rack,site=pool power_kw=abc", "invalid value 'abc'"),
        ("rack,site=pool power_kw=12xi", "invalid integer"),
        ('rack,site=pool note="open', "not closed"),
        ("rack,site=pool power_kw=1 soon", "not an integer"),
        (",site=pool power_kw=1", "measurement name is missing"),
        ("rack,site=pool power_kw=NaN", "finite"),
    ],
)
def test_malformed_lines_say_what_is_wrong(line, reason):
    with pytest.raises(LineProtocolError, match=reason):
        parse_line(line)
