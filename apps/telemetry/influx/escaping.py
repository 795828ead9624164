"""InfluxQL identifiers, string literals, durations and times, quoted and checked: the only
place heatops escapes InfluxQL."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

_DURATION = re.compile(r"^[1-9][0-9]*(ns|u|µ|ms|s|m|h|d|w)$")


def quote_ident(name: str) -> str:
    """An InfluxQL identifier (measurement, field, tag key), double-quoted."""
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def quote_literal(value: str) -> str:
    """An InfluxQL string literal (a tag value in WHERE), single-quoted."""
    if "\n" in value:
        raise ValueError("a tag value cannot contain a newline")
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def duration(value: str) -> str:
    """An InfluxQL duration literal such as 10s or 1h, checked."""
    if not _DURATION.match(value):
        raise ValueError(f"{value!r} is not an InfluxQL duration (for example 10s, 5m, 1h, 7d)")
    return value


_DURATION_UNITS = {
    "ns": timedelta(microseconds=1) / 1000,
    "u": timedelta(microseconds=1),
    "µ": timedelta(microseconds=1),
    "ms": timedelta(milliseconds=1),
    "s": timedelta(seconds=1),
    "m": timedelta(minutes=1),
    "h": timedelta(hours=1),
    "d": timedelta(days=1),
    "w": timedelta(weeks=1),
}


def duration_delta(value: str) -> timedelta:
    """The length of an InfluxQL duration literal (checked like ``duration``)."""
    unit = _DURATION.match(duration(value)).group(1)
    return int(value[: -len(unit)]) * _DURATION_UNITS[unit]


def time_literal(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("times given to InfluxDB must be timezone-aware")
    return "'" + moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ") + "'"
