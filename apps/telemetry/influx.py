"""The one module that talks to InfluxDB.

It speaks the v1 HTTP API only: line protocol to ``/write`` and InfluxQL to ``/query``.
InfluxDB 1.x serves it natively and 2.x/3.x through their v1-compatibility endpoints, so
one code path reaches all of them (docs/telemetry.md). Nothing else in heatops builds line
protocol or InfluxQL: identifiers, tag values and string literals are quoted and escaped
here, once.

Errors:
- ``InfluxUnavailable``: InfluxDB could not be reached (refused, timed out, DNS).
- ``InfluxQueryError`` / ``InfluxWriteError``: InfluxDB answered with an error; the message
  carries InfluxDB's own words. A query error's message leaves the InfluxQL statement out
  (messages reach browsers); it is logged, and kept as the exception's ``statement``.
"""

from __future__ import annotations

import logging
import math
import re
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import httpx

FieldValue = float | int | bool | str
log = logging.getLogger(__name__)


class InfluxError(Exception):
    """Anything that went wrong talking to InfluxDB."""


class InfluxUnavailable(InfluxError):
    """InfluxDB could not be reached at all."""


class InfluxQueryError(InfluxError):
    """InfluxDB answered a query with an error. The message is InfluxDB's reason only;
    the statement is in ``statement`` and in the log, never in the message."""

    def __init__(self, message: str, *, statement: str = "") -> None:
        super().__init__(message)
        self.statement = statement


def _query_refused(statement: str, reason: str) -> InfluxQueryError:
    log.warning("InfluxDB refused %s: %s", statement, reason)
    return InfluxQueryError(f"InfluxDB refused a query: {reason}", statement=statement)


class InfluxWriteError(InfluxError):
    """InfluxDB refused (part of) a write."""


# --- escaping: the only place it happens ----------------------------------------------

_DURATION = re.compile(r"^[1-9][0-9]*(ns|u|µ|ms|s|m|h|d|w)$")
_AGGREGATES = {"mean", "max", "min", "last", "first", "sum", "count", "median", "spread", "stddev"}


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


# --- results --------------------------------------------------------------------------


@dataclass(slots=True)
class Series:
    """One series of a query result; times are epoch milliseconds (UTC)."""

    name: str
    tags: dict[str, str]
    columns: list[str]
    values: list[list]

    def rows(self) -> Iterator[dict]:
        for row in self.values:
            yield dict(zip(self.columns, row, strict=False))


@dataclass(slots=True)
class Reading:
    """The latest point of one series: its measurement, tags, time and non-null fields."""

    measurement: str
    tags: dict[str, str]
    time_ms: int
    fields: dict[str, FieldValue] = field(default_factory=dict)
    # When each field was last written, where it differs from ``time_ms`` (an agent that
    # writes a series' fields in separate points): each number has its own age.
    field_ms: dict[str, int] = field(default_factory=dict)
    # How old this point may get before the series counts as stale, from the series'
    # own cadence (set by the telemetry pump once it knows it; None: use the default).
    stale_after_ms: int | None = None

    @property
    def time(self) -> datetime:
        return datetime.fromtimestamp(self.time_ms / 1000, tz=UTC)

    def time_of(self, name: str) -> int:
        """When the field ``name`` was last written (epoch ms)."""
        return self.field_ms.get(name, self.time_ms)


def where_clause(
    tags: Mapping[str, str] | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
) -> str:
    """A WHERE clause from tag equalities and a time range, every value escaped. Times
    are always explicit: InfluxDB's own now() runs on its clock, not heatops'."""
    parts = [f"{quote_ident(k)} = {quote_literal(str(v))}" for k, v in sorted((tags or {}).items())]
    if start is not None:
        parts.append(f"time >= {time_literal(start)}")
    if end is not None:
        parts.append(f"time < {time_literal(end)}")
    return (" WHERE " + " AND ".join(parts)) if parts else ""


def window_statement(
    *,
    measurement: str,
    fields: Sequence[str],
    start: datetime,
    end: datetime,
    every: str,
    tags: Mapping[str, str] | None = None,
    group_by: Sequence[str] = (),
    aggregate: str = "mean",
    fill: str = "none",
) -> str:
    if aggregate not in _AGGREGATES:
        raise ValueError(f"unknown aggregate {aggregate!r}")
    if fill not in {"none", "null", "previous", "linear", "0"}:
        raise ValueError(f"unknown fill {fill!r}")
    select = ", ".join(f"{aggregate}({quote_ident(f)}) AS {quote_ident(f)}" for f in fields)
    group = ", ".join([f"time({duration(every)})", *(quote_ident(t) for t in group_by)])
    return (
        f"SELECT {select} FROM {quote_ident(measurement)}{where_clause(tags, start, end)} "
        f"GROUP BY {group} fill({fill})"
    )


# --- aggregates for reports -----------------------------------------------------------

# hourly_statement: plain aggregates per local hour. rollup_statement: per bucket (inner),
# then over the range (outer), so that gaps stay gaps: InfluxDB's integral() draws a
# straight line across a gap, a sum of bucket means does not.
_ROLLUP_INNER = {
    "mean": "mean({f})",
    "last": "last({f})",
    "max": "max({f})",
    "min": "min({f})",
    "count": "count({f})",
    "difference_last": "difference(last({f}))",  # a cumulative register's increase per bucket
}
_ROLLUP_OUTER = {"sum", "count", "mean", "max", "min"}
_CONDITION_OPS = {"<", "<=", ">", ">=", "=", "!="}


def _condition_value(value: float | bool) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"{value} is not a finite number")
    return repr(number)


def _tags_any(tags_any: Mapping[str, Sequence[str]] | None) -> list[str]:
    parts = []
    for key, values in sorted((tags_any or {}).items()):
        if not values:
            raise ValueError(f"tags_any[{key!r}] is empty")
        ors = " OR ".join(f"{quote_ident(key)} = {quote_literal(str(v))}" for v in values)
        parts.append(f"({ors})")
    return parts


_HOURLY_FUNCTIONS = {"mean", "count", "sum", "last", "first", "min", "max"}


def hourly_statement(
    *,
    measurement: str,
    calls: Mapping[str, tuple[str, str]],
    start: datetime,
    end: datetime,
    every: str | None = "1h",
    offset_s: int = 0,
    tags: Mapping[str, str] | None = None,
    tags_any: Mapping[str, Sequence[str]] | None = None,
    group_by: Sequence[str] = (),
    where: Sequence[tuple[str, str, float | bool]] = (),
    where_any: bool = False,
    offset_ms: int = 0,
) -> str:
    """Plain aggregates per window (``every``, aligned ``offset_s`` seconds and
    ``offset_ms`` milliseconds past the epoch's whole windows, so local hours in a +05:30
    zone) or over the range, over raw points: the cheapest read InfluxDB offers. ``calls``
    maps an output name to ``(function, field)``; ``where`` keeps only points whose fields
    meet every condition (or any, with ``where_any``): ``(field, op, number or bool)``."""
    parts = []
    for name, (function, fld) in calls.items():
        if function not in _HOURLY_FUNCTIONS:
            raise ValueError(f"unknown function {function!r}")
        parts.append(f"{function}({quote_ident(fld)}) AS {quote_ident(name)}")
    conditions = [f"{quote_ident(k)} = {quote_literal(str(v))}" for k, v in sorted((tags or {}).items())]
    conditions += _tags_any(tags_any)
    conditions.append(f"time >= {time_literal(start)} AND time < {time_literal(end)}")
    filters = []
    for fld, op, value in where:
        if op not in _CONDITION_OPS:
            raise ValueError(f"bad condition {fld!r} {op!r}")
        filters.append(f"{quote_ident(fld)} {op} {_condition_value(value)}")
    if filters:
        conditions.append("(" + (" OR " if where_any else " AND ").join(filters) + ")")
    groups = [quote_ident(t) for t in group_by]
    if every:
        groups.insert(0, _window(every, int(offset_s) * 1000 + int(offset_ms)))
    tail = f" GROUP BY {', '.join(groups)}" if groups else ""
    fill = " fill(none)" if every else ""
    return f"SELECT {', '.join(parts)} FROM {quote_ident(measurement)} WHERE {' AND '.join(conditions)}{tail}{fill}"


def _window(every: str, offset_ms: int) -> str:
    if not offset_ms:
        return f"time({duration(every)})"
    if offset_ms % 1000:
        return f"time({duration(every)}, {offset_ms}ms)"
    return f"time({duration(every)}, {offset_ms // 1000}s)"


def edge_statement(
    *,
    measurement: str,
    field: str,
    start: datetime,
    end: datetime,
    latest: bool,
    tags: Mapping[str, str] | None = None,
    tags_any: Mapping[str, Sequence[str]] | None = None,
    group_by: Sequence[str] = (),
) -> str:
    """The earliest (or, with ``latest``, the latest) point of ``field`` in [start, end)
    of each series: a raw read that stops at the first point it finds."""
    conditions = [f"{quote_ident(k)} = {quote_literal(str(v))}" for k, v in sorted((tags or {}).items())]
    conditions += _tags_any(tags_any)
    conditions.append(f"time >= {time_literal(start)} AND time < {time_literal(end)}")
    groups = f" GROUP BY {', '.join(quote_ident(t) for t in group_by)}" if group_by else ""
    order = " ORDER BY time DESC" if latest else ""
    return (
        f"SELECT {quote_ident(field)} FROM {quote_ident(measurement)} WHERE {' AND '.join(conditions)}"
        f"{groups}{order} LIMIT 1"
    )


# per-point transformations over consecutive points of a series, each value at the later
# point of the pair: the time between them, the change, a trapezoid's area (field units x
# hours: kW gives kWh), the later point's own value (aligned with the others)
_INTERVAL_INNER = {
    "elapsed": "elapsed({f}, 1ms)",
    "difference": "difference({f})",
    "trapezoid": "moving_average({f}, 2) * elapsed({f}, 1ms) / 3600000",
    "value": "moving_average({f}, 2) + difference({f}) / 2",
}


def interval_statement(
    *,
    measurement: str,
    inner: Mapping[str, tuple[str, str]],
    start: datetime,
    end: datetime,
    outer: Mapping[str, tuple[str, str]] | None = None,
    every: str | None = None,
    offset_ms: int = 0,
    tags: Mapping[str, str] | None = None,
    tags_any: Mapping[str, Sequence[str]] | None = None,
    group_by: Sequence[str] = (),
    where: Sequence[tuple[str, str, float | bool]] = (),
    where_any: bool = False,
) -> str:
    """Values of the intervals between consecutive points of each series (``inner``: alias
    -> (transformation, field), see _INTERVAL_INNER), in [start, end), kept where they meet
    every condition of ``where`` (any, with ``where_any``): ``(alias, op, number)``. With
    ``outer`` (name -> (aggregate, alias)), aggregated per ``every`` window (offset by
    ``offset_ms``) and series; without it, the kept intervals themselves.

    InfluxDB 1.x applies the outer time range to the subquery as well, so the first point
    at or after ``start`` has no earlier point to pair with: start earlier to include it."""
    if not inner:
        raise ValueError("an interval statement needs at least one transformation")
    parts = []
    for alias, (function, fld) in inner.items():
        if function not in _INTERVAL_INNER:
            raise ValueError(f"unknown transformation {function!r}")
        parts.append(f"{_INTERVAL_INNER[function].format(f=quote_ident(fld))} AS {quote_ident(alias)}")
    conditions = [f"{quote_ident(k)} = {quote_literal(str(v))}" for k, v in sorted((tags or {}).items())]
    conditions += _tags_any(tags_any)
    span = f"time >= {time_literal(start)} AND time < {time_literal(end)}"
    series = f" GROUP BY {', '.join(quote_ident(t) for t in group_by)}" if group_by else ""
    subquery = (
        f"SELECT {', '.join(parts)} FROM {quote_ident(measurement)} "
        f"WHERE {' AND '.join([*conditions, span])}{series}"
    )
    filters = []
    for alias, op, value in where:
        if alias not in inner or op not in _CONDITION_OPS:
            raise ValueError(f"bad condition {alias!r} {op!r}")
        filters.append(f"{quote_ident(alias)} {op} {_condition_value(value)}")
    outer_where = span + (
        " AND (" + (" OR " if where_any else " AND ").join(filters) + ")" if filters else ""
    )
    if outer is None:
        select = ", ".join(quote_ident(alias) for alias in inner)
        return f"SELECT {select} FROM ({subquery}) WHERE {outer_where}{series}"
    aggregates = []
    for name, (function, alias) in outer.items():
        if function not in _ROLLUP_OUTER or alias not in inner:
            raise ValueError(f"bad outer aggregate {name!r}: {function}({alias})")
        aggregates.append(f"{function}({quote_ident(alias)}) AS {quote_ident(name)}")
    groups = [quote_ident(t) for t in group_by]
    if every:
        groups.insert(0, _window(every, offset_ms))
    tail = f" GROUP BY {', '.join(groups)}" if groups else ""
    fill = " fill(none)" if every else ""
    return f"SELECT {', '.join(aggregates)} FROM ({subquery}) WHERE {outer_where}{tail}{fill}"


def rollup_statement(
    *,
    measurement: str,
    inner: Mapping[str, tuple[str, str]],
    start: datetime,
    end: datetime,
    bucket: str,
    outer: Mapping[str, tuple[str, str]] | None = None,
    tags: Mapping[str, str] | None = None,
    where: Sequence[tuple[str, str, float | bool]] = (),
    inner_start: datetime | None = None,
) -> str:
    """An aggregate of per-bucket aggregates, computed inside InfluxDB in one statement.

    ``inner`` maps an alias to ``(function, field)``: one value per ``bucket`` that has
    points (``fill(none)``: empty buckets are absent, never zero). ``outer`` maps an
    output name to ``(function, inner alias)`` over those bucket values in [start, end);
    without ``outer`` the bucket values themselves come back. ``where`` keeps only the
    buckets whose inner values meet every condition: ``(alias, op, number or bool)``.
    ``inner_start`` lets the buckets begin earlier (a register's increase in the first
    bucket is measured from the reading before it).
    """
    if not inner:
        raise ValueError("a rollup needs at least one inner aggregate")
    inner_parts = []
    for alias, (function, fld) in inner.items():
        if function not in _ROLLUP_INNER:
            raise ValueError(f"unknown inner function {function!r}")
        inner_parts.append(f"{_ROLLUP_INNER[function].format(f=quote_ident(fld))} AS {quote_ident(alias)}")
    conditions = [f"{quote_ident(k)} = {quote_literal(str(v))}" for k, v in sorted((tags or {}).items())]
    span = f"time >= {time_literal(start)} AND time < {time_literal(end)}"
    inner_span = f"time >= {time_literal(inner_start or start)} AND time < {time_literal(end)}"
    subquery = (
        f"SELECT {', '.join(inner_parts)} FROM {quote_ident(measurement)} "
        f"WHERE {' AND '.join([*conditions, inner_span])} GROUP BY time({duration(bucket)}) fill(none)"
    )
    filters = []
    for alias, op, value in where:
        if alias not in inner or op not in _CONDITION_OPS:
            raise ValueError(f"bad condition {alias!r} {op!r}")
        filters.append(f"{quote_ident(alias)} {op} {_condition_value(value)}")
    outer_where = " AND ".join([span, *filters])
    if outer is None:
        select = ", ".join(quote_ident(alias) for alias in inner)
    else:
        parts = []
        for name, (function, alias) in outer.items():
            if function not in _ROLLUP_OUTER or alias not in inner:
                raise ValueError(f"bad outer aggregate {name!r}: {function}({alias})")
            parts.append(f"{function}({quote_ident(alias)}) AS {quote_ident(name)}")
        select = ", ".join(parts)
    return f"SELECT {select} FROM ({subquery}) WHERE {outer_where}"


# --- the client -----------------------------------------------------------------------


class InfluxClient:
    """A client for one InfluxDB database, thread-safe, with pooled connections."""

    def __init__(
        self,
        *,
        url: str,
        database: str,
        username: str = "",
        password: str = "",
        timeout: float = 5.0,
        retention_policy: str = "",
    ) -> None:
        self.url = url.rstrip("/")
        self.database = database
        self.retention_policy = retention_policy
        auth = httpx.BasicAuth(username, password) if username else None
        self._http = httpx.Client(base_url=self.url, timeout=timeout, auth=auth)
        self.queries = 0  # statements sent; the live bench reads it

    def close(self) -> None:
        self._http.close()

    def __repr__(self) -> str:
        return f"<InfluxClient {self.url} db={self.database}>"

    # transport ------------------------------------------------------------------------

    def _request(self, method: str, path: str, **kwargs) -> httpx.Response:
        try:
            return self._http.request(method, path, **kwargs)
        except httpx.TimeoutException as exc:
            raise InfluxUnavailable(f"InfluxDB at {self.url} did not answer in time ({exc})") from exc
        except httpx.TransportError as exc:
            raise InfluxUnavailable(f"InfluxDB at {self.url} is unreachable ({exc})") from exc

    def ping(self) -> bool:
        try:
            return self._request("GET", "/ping").status_code == 204
        except InfluxUnavailable:
            return False

    # writing --------------------------------------------------------------------------

    def write_lines(self, body: str | bytes, *, precision: str = "ns", database: str | None = None) -> None:
        """Write line protocol as it is. Raises InfluxWriteError with InfluxDB's reason."""
        params = {"db": database or self.database, "precision": precision}
        if self.retention_policy:
            params["rp"] = self.retention_policy
        if isinstance(body, str):
            body = body.encode()
        response = self._request("POST", "/write", params=params, content=body)
        if response.status_code != 204:
            raise InfluxWriteError(
                f"InfluxDB refused the write ({response.status_code}): {_error_text(response)}"
            )

    def write(self, points: Iterable[Point], *, batch_size: int = 5000) -> int:
        """Write points in batches of ``batch_size`` lines; return how many were written."""
        written = 0
        batch: list[str] = []
        for point in points:
            batch.append(point.to_line())
            if len(batch) >= batch_size:
                self.write_lines("\n".join(batch))
                written += len(batch)
                batch.clear()
        if batch:
            self.write_lines("\n".join(batch))
            written += len(batch)
        return written

    # querying -------------------------------------------------------------------------

    def query(
        self, statement: str, *, method: str = "GET", timeout: float | None = None
    ) -> list[list[Series]]:
        """Run one or more InfluxQL statements (``;``-separated) in one request.

        Returns one list of Series per statement. Raises InfluxQueryError if InfluxDB
        reports an error for the request or for any statement. ``timeout`` (seconds)
        overrides the client's for this request (reports read a month at once).
        """
        params = {"db": self.database, "q": statement, "epoch": "ms"}
        if self.retention_policy:
            params["rp"] = self.retention_policy
        extra = {"timeout": timeout} if timeout is not None else {}
        if method == "GET":
            response = self._request("GET", "/query", params=params, **extra)
        else:
            response = self._request("POST", "/query", data=params, **extra)
        self.queries += 1
        if response.status_code >= 400:
            raise _query_refused(statement, f"({response.status_code}) {_error_text(response)}")
        results = []
        for result in response.json().get("results", []):
            if "error" in result:
                raise _query_refused(statement, result["error"])
            results.append(
                [
                    Series(s.get("name", ""), s.get("tags") or {}, s.get("columns", []), s.get("values", []))
                    for s in result.get("series", [])
                ]
            )
        return results

    def select(self, statement: str) -> list[Series]:
        """Run one SELECT; return its series."""
        results = self.query(statement)
        return results[0] if results else []

    def ensure_database(self, *, retention: str = "400d") -> None:
        """Create the database and make ``retention_policy`` its default; safe to repeat."""
        db = quote_ident(self.database)
        rp = quote_ident(self.retention_policy or "autogen")
        self.query(f"CREATE DATABASE {db}", method="POST")
        existing = {row["name"] for s in self.select(f"SHOW RETENTION POLICIES ON {db}") for row in s.rows()}
        verb = "ALTER" if (self.retention_policy or "autogen") in existing else "CREATE"
        replication = "" if verb == "ALTER" else " REPLICATION 1"
        self.query(
            f"{verb} RETENTION POLICY {rp} ON {db} DURATION {duration(retention)}{replication} DEFAULT",
            method="POST",
        )

    def drop_database(self) -> None:
        self.query(f"DROP DATABASE {quote_ident(self.database)}", method="POST")

    # the reads heatops needs ----------------------------------------------------------

    def latest(
        self,
        *,
        lookback: str = "1h",
        measurements: Sequence[str] | None = None,
        tags: Mapping[str, str] | None = None,
        now: datetime | None = None,
        points: int = 1,
    ) -> list[Reading]:
        """The latest reading of every series (of every site) in one query.

        ``lookback`` bounds how far back from ``now`` (heatops' clock, this machine's by
        default; never InfluxDB's own ``now()``, whose clock may differ) a series' last
        point may lie; older series are absent from the answer (and so show as stale
        upstream). With ``points`` > 1 the last that many points of each series are read
        and folded into one reading that holds each field's newest value and its time, so
        a field written in a point of its own is not hidden by the next point without it.
        """
        source = ", ".join(quote_ident(m) for m in measurements) if measurements else "/.*/"
        start = (now or datetime.now(UTC)) - duration_delta(lookback)
        statement = (
            f"SELECT * FROM {source}{where_clause(tags, start=start)} "
            f"GROUP BY * ORDER BY time DESC LIMIT {int(points)}"
        )
        readings = []
        for series in self.select(statement):
            # GROUP BY * over several measurements names every tag key; '' means absent
            tags = {k: v for k, v in series.tags.items() if v != ""}
            reading = None
            for row in series.rows():  # newest first
                time_ms = row.pop("time")
                values = {k: v for k, v in row.items() if v is not None and k not in series.tags}
                if reading is None:
                    reading = Reading(series.name, tags, time_ms, values, dict.fromkeys(values, time_ms))
                    continue
                for name, value in values.items():
                    if name not in reading.fields:
                        reading.fields[name], reading.field_ms[name] = value, time_ms
            if reading is not None:
                readings.append(reading)
        return readings

    def window(
        self,
        *,
        measurement: str,
        fields: Sequence[str],
        start: datetime,
        end: datetime,
        every: str,
        tags: Mapping[str, str] | None = None,
        group_by: Sequence[str] = (),
        aggregate: str = "mean",
        fill: str = "none",
    ) -> list[Series]:
        """Downsampled series for charts: ``aggregate`` of each field per ``every`` bucket."""
        return self.select(
            window_statement(
                measurement=measurement,
                fields=fields,
                start=start,
                end=end,
                every=every,
                tags=tags,
                group_by=group_by,
                aggregate=aggregate,
                fill=fill,
            )
        )

    def windows(self, specs: Sequence[Mapping]) -> list[list[Series]]:
        """Several ``window`` reads (each a dict of its arguments) in one request."""
        return self.query(";".join(window_statement(**spec) for spec in specs))

    def rollups(self, statements: Sequence[str], *, timeout: float | None = None) -> list[list[Series]]:
        """Several ``hourly_statement``/``rollup_statement`` statements in one request
        (POST: the batch can be long)."""
        if not statements:
            return []
        return self.query(";".join(statements), method="POST", timeout=timeout)

    def aggregate(
        self,
        *,
        measurement: str,
        fields: Sequence[str],
        start: datetime,
        end: datetime,
        function: str,
        tags: Mapping[str, str] | None = None,
        group_by: Sequence[str] = (),
        every: str | None = None,
        unit: str = "1h",
    ) -> list[Series]:
        """Integrals, means, counts, ... of fields over a range, computed inside InfluxDB.

        ``function="integral"`` integrates over ``unit`` (1h turns kW into kWh). With
        ``every``, one value per bucket (for daily figures).
        """
        if function == "integral":
            select = ", ".join(
                f"integral({quote_ident(f)}, {duration(unit)}) AS {quote_ident(f)}" for f in fields
            )
        elif function in _AGGREGATES:
            select = ", ".join(f"{function}({quote_ident(f)}) AS {quote_ident(f)}" for f in fields)
        else:
            raise ValueError(f"unknown function {function!r}")
        groups = [*([f"time({duration(every)})"] if every else []), *(quote_ident(t) for t in group_by)]
        group = f" GROUP BY {', '.join(groups)}" if groups else ""
        statement = f"SELECT {select} FROM {quote_ident(measurement)}{where_clause(tags, start, end)}{group}"
        return self.select(statement)

    def integral(
        self,
        *,
        measurement: str,
        field: str,
        start: datetime,
        end: datetime,
        tags: Mapping[str, str] | None = None,
        unit: str = "1h",
    ) -> float | None:
        """The time integral of one field over a range (kW over 1h gives kWh); None if no data."""
        series = self.aggregate(
            measurement=measurement,
            fields=[field],
            start=start,
            end=end,
            function="integral",
            tags=tags,
            unit=unit,
        )
        return _single_value(series, field)

    def mean(
        self,
        *,
        measurement: str,
        field: str,
        start: datetime,
        end: datetime,
        tags: Mapping[str, str] | None = None,
    ) -> float | None:
        """The mean of one field over a range; None if no data."""
        series = self.aggregate(
            measurement=measurement, fields=[field], start=start, end=end, function="mean", tags=tags
        )
        return _single_value(series, field)


def _single_value(series: list[Series], field_name: str) -> float | None:
    for s in series:
        for row in s.rows():
            return row.get(field_name)
    return None


def _error_text(response: httpx.Response) -> str:
    try:
        return response.json().get("error", response.text).strip()
    except ValueError:
        return response.text.strip() or response.reason_phrase


# --- the shared client ----------------------------------------------------------------

_client: InfluxClient | None = None
_client_lock = threading.Lock()


def get_client() -> InfluxClient:
    """The process-wide client built from settings.INFLUX."""
    global _client
    with _client_lock:
        if _client is None:
            from django.conf import settings

            conf = settings.INFLUX
            _client = InfluxClient(
                url=conf["URL"],
                database=conf["DB"],
                username=conf.get("USERNAME", ""),
                password=conf.get("PASSWORD", ""),
                timeout=float(conf.get("TIMEOUT", 5)),
                retention_policy=conf.get("RETENTION_POLICY", ""),
            )
        return _client


def reset_client(**_kwargs) -> None:
    """Forget the shared client (settings changed); the next get_client() builds a new one."""
    global _client
    with _client_lock:
        if _client is not None:
            _client.close()
        _client = None
