"""Parse InfluxDB line protocol, as sites' agents (Telegraf, BMS gateways, scripts) send it.

The ingest endpoint parses each line, checks it against the schema and the token's site,
and hands the good ones to ``influx.points.Point`` to be written again in heatops' own normal
form (every number a float, every time in nanoseconds). Writing stays in the influx package.

Grammar (InfluxDB 1.x):

    measurement[,tag=value...] field=value[,field=value...] [timestamp]

The parser gives the verdict InfluxDB 1.x itself would give for every line, so that a line
heatops accepts is one InfluxDB stores, and a line InfluxDB would refuse is refused here
with the reason. It follows InfluxDB's scanner where that scanner is surprising:

- In the measurement and in tags, a comma, space or equals sign is escaped when the byte
  before it is a backslash (even a backslash that is itself escaped); a backslash before
  anything else is kept literally. ``\\,``, ``\\ `` and ``\\=`` are unescaped in tag keys and
  values, ``\\,`` and ``\\ `` in the measurement.
- In the field set a backslash escapes the next byte; string values are double-quoted with
  ``\\"`` and ``\\\\`` escapes.
- Spaces, tabs and NUL bytes before the measurement, the fields and the timestamp are
  skipped; after the timestamp only spaces may follow.
- Numbers: ``-?(digits[.digits]|.digits)[e[+-]digits]`` within double range (InfluxDB's
  "invalid float"); integers end in ``i`` and must fit 64 bits; ``u`` (unsigned) is not
  enabled in InfluxDB 1.x; booleans are t, T, true, True, TRUE, f, F, false, False, FALSE.
- Duplicate tag keys are refused; of duplicate field keys the last one counts.
- The series key (measurement and tags as sent) plus 4 plus a field's key may be at most
  65,535 bytes.

Where heatops deliberately differs (docs/ingest.md says why): CRLF line endings are
accepted (the CR is dropped before parsing; InfluxDB refuses such lines); a line is
whatever lies between two newlines (InfluxDB lets a string field span lines, and no string
field is in heatops' schema).
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass

FieldValue = float | int | bool | str

# The precisions the endpoint accepts, with their factor to nanoseconds, and the name
# InfluxDB 1.x knows each by (it reads anything it does not know, "us" included, as ns).
PRECISION_NS = {
    "n": 1,
    "ns": 1,
    "u": 1_000,
    "µ": 1_000,
    "us": 1_000,
    "ms": 1_000_000,
    "s": 1_000_000_000,
    "m": 60_000_000_000,
    "h": 3_600_000_000_000,
}
INFLUX_PRECISION = {
    "n": "n",
    "ns": "n",
    "u": "u",
    "µ": "u",
    "us": "u",
    "ms": "ms",
    "s": "s",
    "m": "m",
    "h": "h",
}

MAX_KEY_BYTES = 65_535  # InfluxDB's MaxKeyLength: series key + 4 + field key
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
MIN_TIME_NS, MAX_TIME_NS = INT64_MIN + 2, INT64_MAX - 1  # InfluxDB's time range (1677 to 2262)

_TRUE = {"t", "T", "true", "True", "TRUE"}
_FALSE = {"f", "F", "false", "False", "FALSE"}
_FLOAT = re.compile(r"-?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?")
_INTEGER = re.compile(r"-?[0-9]+i")
_TIMESTAMP = re.compile(r"-?[0-9]+")
_SKIPPED = " \t\0"  # what InfluxDB skips before each section


class LineProtocolError(ValueError):
    """A line that is not valid line protocol; the message says what is wrong."""


@dataclass(slots=True)
class ParsedLine:
    measurement: str
    tags: dict[str, str]
    fields: dict[str, FieldValue]
    timestamp: int | None  # in the unit of the request's precision


def _field_value(key: str, raw: str) -> FieldValue:
    if not raw:
        raise LineProtocolError(f"field {key!r} has no value")
    first = raw[0]
    if first == '"':
        if len(raw) < 2 or raw[-1] != '"':
            raise LineProtocolError(f"field {key!r} has an unterminated string")
        return raw[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    if first.isdigit() or first in ".-Nn":
        if _FLOAT.fullmatch(raw):
            number = float(raw)
            if not math.isfinite(number):
                raise LineProtocolError(f"field {key!r} is {raw[:40]}: beyond the range of a double")
            return number
        if _INTEGER.fullmatch(raw):
            number = int(raw[:-1])
            if not INT64_MIN <= number <= INT64_MAX:
                raise LineProtocolError(f"field {key!r} is {raw[:40]}: beyond the range of a 64-bit integer")
            return number
        if raw[-1] == "u" and _INTEGER.fullmatch(raw[:-1] + "i"):
            raise LineProtocolError(
                f"field {key!r} is {raw[:40]}: unsigned integers are not enabled in InfluxDB 1.x"
            )
        raise LineProtocolError(f"field {key!r} has an invalid number {raw[:40]!r}")
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise LineProtocolError(f"field {key!r} has an invalid value {raw[:40]!r}")


def _unescape_tag(text: str) -> str:
    if "\\" not in text:
        return text
    return text.replace("\\,", ",").replace("\\=", "=").replace("\\ ", " ")


def _unescape_measurement(text: str) -> str:
    if "\\" not in text:
        return text
    return text.replace("\\,", ",").replace("\\ ", " ")


def _skip(line: str, i: int) -> int:
    n = len(line)
    while i < n and line[i] in _SKIPPED:
        i += 1
    return i


def _escaped(line: str, i: int) -> bool:
    """InfluxDB's rule in the measurement and tags: a byte is escaped when the byte before
    it is a backslash."""
    return line[i - 1] == "\\"


def _scan_key(line: str, i: int) -> tuple[str, dict[str, str], int]:
    """The measurement and tags starting at ``i``; returns them and where the key ends."""
    n = len(line)
    if i >= n or line[i] == ",":
        raise LineProtocolError("the measurement name is missing")
    j = i
    while True:
        j += 1
        if j >= n:
            raise LineProtocolError("no fields: expected 'measurement[,tags] fields [timestamp]'")
        if _escaped(line, j):
            continue
        if line[j] in ", ":
            break
    measurement = _unescape_measurement(line[i:j])
    tags: dict[str, str] = {}
    while line[j] == ",":
        k0 = k = j + 1
        if k >= n or line[k] in " ,=":
            raise LineProtocolError("a tag has no key")
        while True:
            k += 1
            if k >= n or (line[k] in " ," and not _escaped(line, k)):
                raise LineProtocolError(f"tag {line[k0:k][:60]!r} is not key=value")
            if line[k] == "=" and not _escaped(line, k):
                break
        v0 = v = k + 1
        if v >= n or line[v] in ", ":
            raise LineProtocolError(f"tag {line[k0:k][:60]!r} has no value")
        while True:
            v += 1
            if v >= n:
                raise LineProtocolError("no fields: expected 'measurement[,tags] fields [timestamp]'")
            if line[v] in "=, " and not _escaped(line, v):
                break
        if line[v] == "=":
            raise LineProtocolError(f"tag {line[k0:v][:60]!r} has an unescaped '=' in its value")
        key = _unescape_tag(line[k0:k])
        if key in tags:
            raise LineProtocolError(f"tag {key!r} appears twice")
        tags[key] = _unescape_tag(line[v0:v])
        j = v
    return measurement, tags, j


def _scan_fields(line: str, i: int) -> tuple[list[tuple[str, str]], int]:
    """The raw key=value pairs of the field set starting at ``i``, and where it ends."""
    n = len(line)
    pairs: list[tuple[str, str]] = []
    start = i
    key_end = -1  # where the current pair's '=' is, once seen
    quoted = False
    while i < n:
        c = line[i]
        if c == "\\" and i + 1 < n:
            i += 2
            continue
        if c == '"' and key_end >= 0:
            quoted = not quoted
        elif not quoted:
            if c == "=" and key_end < 0:
                key_end = i
            elif c in ", ":
                if key_end < 0:
                    raise LineProtocolError(f"field {line[start:i][:60]!r} is not key=value")
                pairs.append((line[start:key_end], line[key_end + 1 : i]))
                key_end = -1
                start = i + 1
                if c == " ":
                    break
        i += 1
    else:
        if quoted:
            raise LineProtocolError("a string field value is not closed")
        if key_end < 0:
            raise LineProtocolError(f"field {line[start:i][:60]!r} is not key=value")
        pairs.append((line[start:key_end], line[key_end + 1 : i]))
    return pairs, i


def parse_line(line: str) -> ParsedLine:
    """Parse one line (without its line break); raise LineProtocolError saying what is wrong."""
    i = _skip(line, 0)
    measurement, tags, key_end = _scan_key(line, i)
    key_bytes = len(line[i:key_end].encode())

    fields_at = _skip(line, key_end)
    if fields_at >= len(line):
        raise LineProtocolError("no fields: expected 'measurement[,tags] fields [timestamp]'")
    pairs, end = _scan_fields(line, fields_at)
    fields: dict[str, FieldValue] = {}
    for raw_key, raw_value in pairs:
        if not raw_key:
            raise LineProtocolError("a field has no key")
        if key_bytes + 4 + len(raw_key.encode()) > MAX_KEY_BYTES:
            raise LineProtocolError(
                f"the series key is {key_bytes} bytes; InfluxDB's limit is {MAX_KEY_BYTES} "
                "with the field name: shorten the tag values"
            )
        key = _unescape_tag(raw_key)
        fields[key] = _field_value(key, raw_value)

    timestamp = None
    at = _skip(line, end)
    if at < len(line):
        stop = line.find(" ", at)
        text = line[at:] if stop < 0 else line[at:stop]
        if not _TIMESTAMP.fullmatch(text):
            raise LineProtocolError(f"timestamp {text[:40]!r} is not an integer")
        timestamp = int(text)
        if not INT64_MIN <= timestamp <= INT64_MAX:
            raise LineProtocolError(f"timestamp {text[:40]} does not fit InfluxDB's 64 bits")
        if stop >= 0 and line[stop:].strip(" "):
            raise LineProtocolError("unexpected text after the timestamp")
    if not measurement:
        raise LineProtocolError("the measurement name is missing")
    return ParsedLine(measurement, tags, fields, timestamp)


def split_lines(body: str):
    """(line number, line) for every line of a body, CRLF taken as LF; blank lines and
    comments are skipped (they still count for the numbers, which start at 1)."""
    for number, line in enumerate(body.split("\n"), start=1):
        if line.endswith("\r"):
            line = line[:-1]
        first = _skip(line, 0)
        if first >= len(line) or line[first] == "#":
            continue
        yield number, line


# --- the fast path for whole batches ----------------------------------------------------

# Numbers the fast path vouches for: no more than 200 integer digits and a two-digit
# exponent, so that none can overflow a double (anything else goes the slow way).
_NUMBER = r"-?(?:[0-9]{1,200}(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]{1,2})?"
_BOOL = r"(?:t|T|true|True|TRUE|f|F|false|False|FALSE)"
_TAG_VALUE = r'[^\s,="\\]{1,256}'  # nothing escaped, far below InfluxDB's key limit
_TIMESTAMPS = re.compile(rb" ([0-9]+)$", re.M)


@functools.lru_cache(maxsize=256)
def clean_batch_pattern(site: str) -> re.Pattern[bytes]:
    """A regex that matches a whole batch only if every line is plainly valid for ``site``.

    "Plainly": tags in sorted key order (as Telegraf and heatops' own clients send them),
    every schema tag present once and no other, only the schema's fields with numbers for
    numeric fields (no integer suffix) and booleans for flags, single spaces, a timestamp
    on every line, LF line endings, nothing escaped or quoted. One C-level match then
    vouches for the whole batch; a batch that does not match is checked line by line
    instead, which gives the same verdict on these lines (tests/ingest/test_differential.py
    holds both to InfluxDB's) and names what is wrong with each bad one.
    """
    from . import schema

    alternatives = []
    for spec in schema.MEASUREMENTS.values():
        tags = "".join(
            f",{re.escape(t)}=" + (re.escape(site) if t == "site" else _TAG_VALUE) for t in sorted(spec.tags)
        )
        one_field = "|".join(
            f"{re.escape(f.name)}=" + (_BOOL if f.type == "bool" else _NUMBER) for f in spec.fields.values()
        )
        alternatives.append(f"{re.escape(spec.name)}{tags} (?:{one_field})(?:,(?:{one_field}))*")
    line = f"(?:{'|'.join(alternatives)}) [0-9]{{1,19}}"
    return re.compile(f"{line}(?:\n{line})*\n?".encode())


def clean_batch_times(body: bytes, site: str) -> list[int] | None:
    """The timestamps of a batch if every line is plainly valid for ``site``, else None."""
    if clean_batch_pattern(site).fullmatch(body) is None:
        return None
    return [int(t) for t in _TIMESTAMPS.findall(body)]
