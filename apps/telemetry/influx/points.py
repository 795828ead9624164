"""Points written as InfluxDB 1.x line protocol: the only place heatops escapes it."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

FieldValue = float | int | bool | str


def _check_lp_text(kind: str, value: str) -> None:
    if not value:
        raise ValueError(f"{kind} must not be empty")
    if "\n" in value or "\r" in value:
        raise ValueError(f"{kind} {value!r} contains a line break, which line protocol cannot carry")
    if value.endswith("\\"):
        raise ValueError(f"{kind} {value!r} ends with a backslash, which line protocol cannot carry")


_escaped: dict[str, str] = {}  # tag keys, values and field keys repeat: escape each once


def _escape_key(value: str, kind: str) -> str:
    # InfluxDB 1.x line protocol: commas, equals signs and spaces are escaped in tag keys,
    # tag values and field keys; a backslash before anything else is kept literally.
    try:
        return _escaped[value]
    except KeyError:
        pass
    _check_lp_text(kind, value)
    escaped = value.replace(",", "\\,").replace("=", "\\=").replace(" ", "\\ ")
    if len(_escaped) > 100_000:
        _escaped.clear()
    _escaped[value] = escaped
    return escaped


def _escape_measurement(value: str) -> str:
    _check_lp_text("measurement", value)
    return value.replace(",", "\\,").replace(" ", "\\ ")


def _field_value(name: str, value: FieldValue) -> str:
    if type(value) is float and math.isfinite(value):  # the common case first
        return repr(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        number = float(value)  # one numeric type for every field: no int/float conflicts
        if not math.isfinite(number):
            raise ValueError(f"field {name!r} is {value}, InfluxDB stores only finite numbers")
        return repr(number)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    raise TypeError(f"field {name!r} has unsupported type {type(value).__name__}")


def _timestamp_ns(moment: datetime | int) -> int:
    if isinstance(moment, int):
        return moment
    if moment.tzinfo is None:
        raise ValueError("point times must be timezone-aware")
    return int(moment.timestamp()) * 1_000_000_000 + moment.microsecond * 1000


@dataclass(frozen=True, slots=True)
class Point:
    """One point: measurement, tags, fields and a time (aware datetime or epoch ns)."""

    measurement: str
    tags: Mapping[str, str]
    fields: Mapping[str, FieldValue]
    time: datetime | int | None = None

    def to_line(self) -> str:
        if not self.fields:
            raise ValueError(f"point for {self.measurement!r} has no fields")
        tags = self.tags
        head = _escape_measurement(self.measurement)
        for key in sorted(tags):
            head += f",{_escape_key(key, 'tag key')}={_escape_key(str(tags[key]), 'tag value')}"
        body = ",".join(f"{_escape_key(k, 'field key')}={_field_value(k, v)}" for k, v in self.fields.items())
        line = f"{head} {body}"
        if self.time is not None:
            line += f" {_timestamp_ns(self.time)}"
        return line
