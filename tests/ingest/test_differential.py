"""The ingest endpoint's verdict on every line is InfluxDB's own.

Generated lines (every escaping rule, field type, number form and boundary, spacing,
precision, CRLF, comments, blank lines, timestamps) are given to three judges: a real
influxd (each line on its own), heatops' line-by-line path and heatops' whole-batch fast
path. For lines whose content fits heatops' schema, heatops accepts exactly what InfluxDB
accepts; lines that do not fit are refused; whatever heatops accepts, InfluxDB then stores
without refusing any of it, with the values heatops parsed; the fast path never vouches
for a line the slow path refuses, and forwards the same points.

Deliberate differences, documented in docs/ingest.md, are applied to InfluxDB's side of
the comparison: a CRLF line is judged by InfluxDB without its CR, and a precision by the
name InfluxDB 1.x knows it by (``us`` is ``u``).
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass

import httpx
import pytest

from apps.demo.sites import seed_demo_sites
from apps.ingest.models import IngestRefusal
from apps.ingest.services import ingest_batch
from apps.ingest.spool import get_spool
from apps.telemetry import schema
from apps.telemetry.lineprotocol import INFLUX_PRECISION, PRECISION_NS, clean_batch_times, parse_line

pytestmark = pytest.mark.django_db

VALID_FLOATS = [
    "1",
    "21.5",
    "1.",
    ".5",
    "-.5",
    "-0",
    "01",
    "1e5",
    "1E-5",
    "1.5e+3",
    "-2.5e-2",
    "1e308",
    "1.7976931348623157e308",
    "1e-400",
    "0." + "0" * 400 + "1",
    "1" * 200,
    "1" * 309,
    "7" * 200 + ".5e99",
]
INVALID_FLOATS = [
    "1e309",
    "-1e309",
    "9" * 400,
    "1.7976931348623159e308",
    "+1",
    "1_000",
    "NaN",
    "nan",
    "inf",
    "-inf",
    "0x10",
    "1e",
    ".e5",
    "--1",
    "1.2.3",
    "-",
    ".",
    "1-2",
    "1e5.5",
    "1ee5",
    "12xi",
    "",
]
INTEGERS = ["5i", "-0i", "00i", "9223372036854775807i", "-9223372036854775808i"]
INVALID_INTEGERS = ["9223372036854775808i", "-9223372036854775809i", "5u", "1.5i", "1e5i", "-i", "+5i"]
BOOLS = ["t", "T", "true", "True", "TRUE", "f", "F", "false", "False", "FALSE"]
INVALID_BOOLS = ["tRUE", "yes", "1b", "truee"]
# (raw text in the line, whether InfluxDB and heatops can take it)
TAG_VALUES = [
    ("rack-a", True),
    (r"rack\ a", True),
    (r"a\,b", True),
    (r"a\=b", True),
    (r"c\d", True),
    ("a\\\\ b", True),  # two backslashes: the space is still escaped (InfluxDB looks one byte back)
    ("pümp-é☃", True),
    ('"quoted"', True),
    ("tab\there", True),
    ("x" * 300, True),
    ("y" * 65_510, True),  # near the 65,535-byte series-key limit
    ("z" * 65_530, False),  # over it
    ("a=b", False),
    ("", False),
    ("ends\\", False),  # escapes the space after it
]


@dataclass
class Case:
    line: str
    precision: str
    fits_schema: bool  # content heatops' schema takes, so heatops' verdict must equal InfluxDB's


def _fields(rng: random.Random, spec: schema.Measurement) -> tuple[str, bool]:
    parts, ok = [], True
    chosen = rng.sample(list(spec.fields.values()), k=min(len(spec.fields), rng.randint(1, 3)))
    for f in chosen:
        pick = rng.random()
        if f.type == "bool":
            if pick < 0.8:
                value = rng.choice(BOOLS)
            else:
                value, ok = rng.choice(INVALID_BOOLS + VALID_FLOATS[:3]), False
        elif pick < 0.6:
            value = rng.choice(VALID_FLOATS)
        elif pick < 0.75:
            value = rng.choice(INTEGERS)
        elif pick < 0.9:
            value = rng.choice(INVALID_FLOATS + INVALID_INTEGERS)
        elif pick < 0.95:
            value, ok = rng.choice(BOOLS), False  # a boolean where a number belongs: the schema refuses
        else:
            value, ok = '"a string"', False
        parts.append(f"{f.name}={value}")
    if ok and rng.random() < 0.1:  # a duplicate key: the last one counts
        parts.append(
            f"{chosen[0].name}=" + rng.choice(BOOLS if chosen[0].type == "bool" else VALID_FLOATS[:6])
        )
    return ",".join(parts), ok


def _case(rng: random.Random, now_s: int, n: int) -> Case:
    spec = rng.choice(list(schema.MEASUREMENTS.values()))
    ok = True
    tags = []
    for tag in spec.tags:
        if tag == "site":
            value = "pool" if rng.random() < 0.95 else "school"
            ok &= value == "pool"
        else:
            value = rng.choice(TAG_VALUES)[0] if rng.random() < 0.5 else f"a{n % 7}"
        tags.append((tag, value))
    if rng.random() < 0.5:
        rng.shuffle(tags)
    if rng.random() < 0.05:
        tags.append(tags[0])  # a duplicate tag: InfluxDB refuses it
    fields, fields_ok = _fields(rng, spec)
    ok &= fields_ok
    precision = rng.choice(list(PRECISION_NS))
    stamp = (now_s - n) * PRECISION_NS["s"] // PRECISION_NS[precision]
    pick = rng.random()
    if pick < 0.1:
        ts = ""
    elif pick < 0.15:
        ts, ok = str(10**19 + n), False  # beyond 64 bits
    elif pick < 0.2:
        ts, ok = str(stamp + 86_400 * 10**9 // PRECISION_NS[precision]), False  # a day ahead
    elif pick < 0.25:
        ts, ok = str(stamp // 10**6 if precision in ("n", "ns", "u", "us", "µ") else 1), False  # 1970s
    elif pick < 0.28:
        ts, ok = str(stamp - 450 * 86_400 * 10**9 // PRECISION_NS[precision]), False  # beyond retention
    elif pick < 0.32:
        ts = "00" + str(stamp)
    elif pick < 0.35:
        ts = rng.choice(["+1", "1.5", "12ab", "-"])  # not a timestamp: both refuse
    else:
        ts = str(stamp)
    key = ",".join([spec.name] + [f"{k}={v}" for k, v in tags])
    sep = rng.choice([" "] * 8 + ["  ", "\t"])
    line = f"{key}{sep}{fields}" + (f"{rng.choice([' '] * 8 + ['   ', chr(9)])}{ts}" if ts else "")
    if rng.random() < 0.1:
        line = "  " + line
    if rng.random() < 0.1:
        line += "  "
    return Case(line, precision, ok)


def _cases(now_s: int) -> list[Case]:
    rng = random.Random(20261202)
    cases = [_case(rng, now_s, n) for n in range(1500)]
    site, stamp = "site=pool", now_s - 5
    cases += [  # the boundaries, by hand
        Case(f"rack,asset=a,{site} power_kw=1 {stamp}", "s", True),
        Case(f"rack,{site},asset=a power_kw=1e309 {stamp}", "s", True),
        Case(f"rack,{site},asset=a,asset=b power_kw=1 {stamp}", "s", True),
        Case(f"rack,{site},asset=a power_kw=1 {stamp * 1_000_000}", "us", True),
        Case(f"rack,{site},asset=a power_kw=1 {stamp * 1_000_000}", "µ", True),
        Case(f"rack,{site},asset=a power_kw=1 {stamp * 1_000_000}", "u", True),
        Case(f"rack,{site},asset=a power_kw=1 9223372036854775806", "n", False),  # 2262: the future
        Case(f"rack,{site},asset=a power_kw=1 9223372036854775807", "n", False),
    ]
    return cases


def _influx_accepts(http: httpx.Client, db: str, line: str, precision: str) -> bool:
    response = http.post(
        "/write", params={"db": db, "precision": INFLUX_PRECISION[precision]}, content=line.encode()
    )
    if response.status_code == 204:
        return True
    # a type conflict with a line before this one is not about the line's syntax; heatops
    # writes every number as a float, so it never meets one
    return "field type conflict" in response.text and "unable to parse" not in response.text


def _heatops_accepts(line: str, precision: str) -> bool:
    """heatops' line-by-line verdict (parse, schema, site, time window), without writing."""
    from apps.ingest.services import TimeWindow, _check_line

    now_ns = time.time_ns()
    try:
        parsed = parse_line(line.removesuffix("\r"))
        _check_line(
            parsed,
            site_slug="pool",
            now_ns=now_ns,
            factor=PRECISION_NS[precision],
            window=TimeWindow.at(now_ns),
        ).to_line()
    except ValueError:
        return False
    return True


def test_heatops_gives_influxdbs_verdict_on_every_line_and_influxdb_stores_what_it_accepts(
    influx, services, settings, tmp_path
):
    settings.HEATOPS_SPOOL_DIR = tmp_path / "spool"
    sites = {s.slug: s for s in seed_demo_sites()}
    now_s = int(time.time()) - 60
    cases = _cases(now_s)
    raw_db = influx.database + "_raw"
    influx.query(
        f'CREATE DATABASE "{raw_db}" WITH DURATION {settings.INFLUX["RETENTION"]} NAME "r"', method="POST"
    )

    disagreements, wrongly_accepted = [], []
    with httpx.Client(base_url=services["influx_url"], timeout=10) as http:
        for case in cases:
            ours = _heatops_accepts(case.line, case.precision)
            if case.fits_schema:
                theirs = _influx_accepts(http, raw_db, case.line, case.precision)
                if ours != theirs:
                    disagreements.append(
                        (case.line[:120], case.precision, "heatops", ours, "influxdb", theirs)
                    )
            elif ours:
                wrongly_accepted.append((case.line[:120], case.precision))
    influx.query(f'DROP DATABASE "{raw_db}"', method="POST")
    assert disagreements == [], "\n".join(map(repr, disagreements))
    assert wrongly_accepted == [], "\n".join(map(repr, wrongly_accepted))
    accepted = sum(_heatops_accepts(c.line, c.precision) for c in cases)
    assert 300 < accepted < len(cases) - 300  # the generator exercises both verdicts

    # the same lines through the endpoint's service, a batch per precision with CRLF
    # endings, comments and blank lines: what it accepts InfluxDB stores, refusing none
    for precision in PRECISION_NS:
        lines = [c.line for c in cases if c.precision == precision]
        body = "# a comment\r\n\r\n" + "\r\n".join(lines) + "\r\n"
        result = ingest_batch(site=sites["pool"], body=body.encode(), precision=precision)
        assert result.written == sum(_heatops_accepts(line, precision) for line in lines)
    assert get_spool().pending() == 0
    assert list(IngestRefusal.objects.values_list("reason", flat=True)) == []


def test_what_the_endpoint_stores_is_what_it_parsed(influx, settings, tmp_path):
    """The accepted lines in seconds, each at its own time: InfluxDB holds exactly the
    values the parser read (numbers as floats, the last of a duplicate field)."""
    settings.HEATOPS_SPOOL_DIR = tmp_path / "spool"
    pool = {s.slug: s for s in seed_demo_sites()}["pool"]
    now_s = int(time.time()) - 60
    expected = {}
    lines = []
    for case in _cases(now_s):
        if case.precision != "s" or not _heatops_accepts(case.line, "s"):
            continue
        parsed = parse_line(case.line)
        if parsed.timestamp is None:
            continue
        lines.append(case.line)
        key = (parsed.measurement, tuple(sorted(parsed.tags.items())), parsed.timestamp)
        expected[key] = {k: v if isinstance(v, bool) else float(v) for k, v in parsed.fields.items()}
    assert len(expected) > 30
    assert ingest_batch(site=pool, body="\n".join(lines).encode(), precision="s").rejected == []

    stored = {}
    for measurement in {key[0] for key in expected}:
        for series in influx.select(f'SELECT * FROM "{measurement}" GROUP BY *'):
            for row in series.rows():
                fields = {  # JSON writes a whole float without its point: read numbers as floats
                    k: v if isinstance(v, bool) else float(v)
                    for k, v in row.items()
                    if k != "time" and v is not None
                }
                stored[(measurement, tuple(sorted(series.tags.items())), row["time"] // 1000)] = fields
    assert stored == expected


def test_the_fast_path_vouches_only_for_lines_the_slow_path_accepts_and_forwards_the_same_points():
    now_s = int(time.time()) - 60
    vouched = 0
    for case in _cases(now_s):
        body = case.line.encode()
        times = clean_batch_times(body, "pool")
        if times is None:
            continue
        vouched += 1
        assert _heatops_accepts(case.line, case.precision) or not case.fits_schema, case.line[:120]
        slow = parse_line(case.line)
        assert (slow.timestamp,) == tuple(times)
    assert vouched > 50
    # a CRLF batch, comments and blank lines: normalised, the fast path takes the first
    batch = "\r\n".join(f"rack,asset=a,site=pool power_kw={i} {now_s - i}" for i in range(3)).encode()
    assert clean_batch_times(batch.replace(b"\r\n", b"\n"), "pool") == [now_s - i for i in range(3)]
    assert clean_batch_times(b"# c\n" + batch, "pool") is None
