import pytest

from apps.telemetry.influx.points import Point
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
    p = parse_line(r'my\ meas,site=Pool\ "North"\,\ Hall\=2 note="say \"hi\", ok",on=t,off=FALSE,n=-3i')
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
        ("rack,site=pool", "no fields"),
        ("rack,site=pool power_kw=1 123 extra", "after the timestamp"),
        ("rack,site power_kw=1", "not key=value"),
        ("rack,site=pool power_kw", "not key=value"),
        ("rack,site=pool power_kw=abc", "invalid value 'abc'"),
        ("rack,site=pool power_kw=12xi", "invalid number"),
        ("rack,site=pool power_kw=+1", "invalid value"),
        ("rack,site=pool power_kw=1_000", "invalid number"),
        ("rack,site=pool power_kw=1e309", "beyond the range of a double"),
        ("rack,site=pool power_kw=" + "9" * 400, "beyond the range of a double"),
        ("rack,site=pool power_kw=9223372036854775808i", "64-bit integer"),
        ("rack,site=pool power_kw=5u", "unsigned"),
        ("rack,site=pool on=tRUE", "invalid value"),
        ('rack,site=pool note="open', "not closed"),
        ("rack,site=pool power_kw=1 soon", "not an integer"),
        ("rack,site=pool power_kw=1 99999999999999999999", "64 bits"),
        ("rack,site=pool power_kw=1\t123", "invalid number"),
        (",site=pool power_kw=1", "measurement name is missing"),
        ("rack,site=pool power_kw=NaN", "invalid number"),
        ("rack,site=pool,site=school power_kw=1", "tag 'site' appears twice"),
        ("rack,site=a=b power_kw=1", "unescaped '='"),
        ("rack,site=pool power_kw=1,", "not key=value"),
        ("rack,site=" + "x" * 70_000 + " power_kw=1", "InfluxDB's limit is 65535"),
    ],
)
def test_malformed_lines_say_what_is_wrong(line, reason):
    with pytest.raises(LineProtocolError, match=reason):
        parse_line(line)


def test_spacing_duplicates_and_number_forms_influxdb_accepts_parse_as_it_reads_them():
    p = parse_line(
        "  rack,site=pool power_kw=1.,inlet_temp_c=.5,outlet_temp_c=-.5e+1,power_kw=2   1700000000  "
    )
    assert p.fields == {"power_kw": 2.0, "inlet_temp_c": 0.5, "outlet_temp_c": -5.0}  # the last one counts
    assert p.timestamp == 1_700_000_000
    assert parse_line("rack,site=pool power_kw=1e-400").fields == {"power_kw": 0.0}  # underflow is zero


def test_a_separator_after_any_backslash_is_escaped_in_tags_as_influxdb_reads_them():
    # InfluxDB looks only at the byte before a separator, so in a\\<space>b (two
    # backslashes) the space is still escaped and the value is a\<space>b
    p = parse_line(r"rack,site=a\\ b,asset=c\d power_kw=1")
    assert p.tags == {"site": "a\\ b", "asset": "c\\d"}
    with pytest.raises(LineProtocolError):
        parse_line(r"rack,site=a\\ power_kw=1")  # the space is escaped: the line has no fields


def test_the_series_key_limit_is_influxdbs_to_the_byte():
    head = "k,t="
    fits = parse_line(head + "x" * (65_535 - 4 - 4 - 1) + " f=1")  # key + 4 + field key = 65535
    assert fits.fields == {"f": 1.0}
    with pytest.raises(LineProtocolError, match="65535"):
        parse_line(head + "x" * (65_535 - 4 - 4) + " f=1")
