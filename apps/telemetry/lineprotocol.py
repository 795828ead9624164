"""Parse InfluxDB line protocol, as sites' agents (Telegraf, BMS gateways, scripts) send it.

The ingest endpoint parses each line, checks it against the schema and the token's site,
and hands the good ones to ``influx.Point`` to be written again in heatops' own normal
form (every number a float, every time in nanoseconds). Writing stays in influx.py.

Grammar (InfluxDB 1.x):

    measurement[,tag=value...] field=value[,field=value...] [timestamp]

Commas and spaces are escaped with a backslash in the measurement; commas, equals signs
and spaces in tag keys, tag values and field keys; string field values are double-quoted
with ``\\"`` and ``\\\\`` escapes. Integers end in ``i`` (``u`` for unsigned), booleans are
t/true/f/false in any of InfluxDB's spellings.
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass

FieldValue = float | int | bool | str

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
_TRUE = {"t", "T", "true", "True", "TRUE"}
_FALSE = {"f", "F", "false", "False", "FALSE"}


class LineProtocolError(ValueError):
    """A line that is not valid line protocol; the message says what is wrong."""


@dataclass(slots=True)
class ParsedLine:
    measurement: str
    tags: dict[str, str]
    fields: dict[str, FieldValue]
    timestamp: int | None  # in the unit of the request's precision


def _field_value(key: str, raw: str) -> FieldValue:
    try:
        number = float(raw)  # the common case first
    except ValueError:
        pass
    else:
        if raw[-1] in "iu" or not math.isfinite(number):
            raise LineProtocolError(f"field {key!r} is {raw}: only finite numbers are stored")
        return number
    if not raw:
        raise LineProtocolError(f"field {key!r} has no value")
    if raw[0] == '"':
        if len(raw) < 2 or raw[-1] != '"':
            raise LineProtocolError(f"field {key!r} has an unterminated string")
        return raw[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    if raw[-1] in "iu":
        try:
            return int(raw[:-1])
        except ValueError:
            raise LineProtocolError(f"field {key!r} has an invalid integer {raw!r}") from None
    raise LineProtocolError(f"field {key!r} has an invalid value {raw!r}")


def _split(text: str, sep: str, *, quotes: bool = False) -> list[str]:
    """Split on ``sep`` where it is neither escaped nor (with quotes) inside a string.
    Escapes are kept; _unescape removes them from each part."""
    parts, start, i, n, in_string = [], 0, 0, len(text), False
    while i < n:
        c = text[i]
        if c == "\\":
            i += 2
            continue
        if quotes and c == '"':
            in_string = not in_string
        elif c == sep and not in_string:
            parts.append(text[start:i])
            start = i + 1
        i += 1
    if in_string:
        raise LineProtocolError("a string field value is not closed")
    parts.append(text[start:])
    return parts


def _unescape(text: str) -> str:
    if "\\" not in text:
        return text
    return text.replace("\\,", ",").replace("\\=", "=").replace("\\ ", " ")


def _key_value(pair: str, what: str, *, quotes: bool = False) -> tuple[str, str]:
    kv = _split(pair, "=", quotes=quotes)
    if len(kv) != 2 or not kv[0] or not kv[1]:
        raise LineProtocolError(f"{what} {pair!r} is not key=value")
    return kv[0], kv[1]


def _pairs(text: str, what: str) -> list[tuple[str, str]]:
    """key=value pairs of a section with no escapes or quotes in it (the common case)."""
    out = []
    for pair in text.split(","):
        key, _, value = pair.partition("=")
        if not key or not value or "=" in value:
            raise LineProtocolError(f"{what} {pair!r} is not key=value")
        out.append((key, value))
    return out


def parse_line(line: str) -> ParsedLine:
    """Parse one line; raise LineProtocolError saying what is wrong."""
    simple = "\\" not in line and '"' not in line
    sections = line.split(" ") if simple else _split(line, " ", quotes=True)
    if len(sections) not in (2, 3):
        raise LineProtocolError("expected 'measurement[,tags] fields [timestamp]' separated by single spaces")
    key, fieldset = sections[0], sections[1]
    timestamp = None
    if len(sections) == 3:
        try:
            timestamp = int(sections[2])
        except ValueError:
            raise LineProtocolError(f"timestamp {sections[2]!r} is not an integer") from None
    if not fieldset:
        raise LineProtocolError("no fields")

    if simple:
        measurement, _, tagset = key.partition(",")
        tags = dict(_pairs(tagset, "tag")) if tagset else {}
        fields = {k: _field_value(k, v) for k, v in _pairs(fieldset, "field")}
    else:
        key_parts = _split(key, ",")
        measurement = _unescape(key_parts[0])
        tags = {}
        for pair in key_parts[1:]:
            k, v = _key_value(pair, "tag")
            tags[_unescape(k)] = _unescape(v)
        fields = {}
        for pair in _split(fieldset, ",", quotes=True):
            k, v = _key_value(pair, "field", quotes=True)
            k = _unescape(k)
            fields[k] = _field_value(k, v)
    if not measurement:
        raise LineProtocolError("the measurement name is missing")
    return ParsedLine(measurement, tags, fields, timestamp)


# --- the fast path for whole batches ----------------------------------------------------

_NUMBER = r"-?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?"
_BOOL = r"(?:t|T|true|True|TRUE|f|F|false|False|FALSE)"
_TAG_VALUE = r'[^\s,="\\]+'
_TIMESTAMPS = re.compile(rb" ([0-9]+)\r?$", re.M)


@functools.lru_cache(maxsize=256)
def clean_batch_pattern(site: str) -> re.Pattern[bytes]:
    """A regex that matches a whole batch only if every line is plainly valid for ``site``.

    "Plainly": tags in sorted key order (as Telegraf and heatops' own clients send them),
    every schema tag present and no other, only the schema's fields with numbers for
    numeric fields (no integer suffix) and booleans for flags, a timestamp on every line,
    nothing escaped or quoted. One C-level match then vouches for the whole batch; a batch
    that does not match is checked line by line instead, which accepts the same lines and
    more and names what is wrong with each bad one.
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
    return re.compile(f"{line}(?:\r?\n{line})*(?:\r?\n)?".encode())


def clean_batch_times(body: bytes, site: str) -> list[int] | None:
    """The timestamps of a batch if every line is plainly valid for ``site``, else None."""
    if clean_batch_pattern(site).fullmatch(body) is None:
        return None
    return [int(t) for t in _TIMESTAMPS.findall(body)]
