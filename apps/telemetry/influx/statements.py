"""InfluxQL SELECT statements, built from names and values that are quoted here. Times are
always explicit: InfluxDB's own now() runs on its clock, not heatops'."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import datetime

from .escaping import duration, quote_ident, quote_literal, time_literal

_AGGREGATES = {"mean", "max", "min", "last", "first", "sum", "count", "median", "spread", "stddev"}
_FILLS = {"none", "null", "previous", "linear", "0"}
_CONDITION_OPS = {"<", "<=", ">", ">=", "=", "!="}


# --- the parts every statement is made of ----------------------------------------------


def _tag_equalities(tags: Mapping[str, str] | None) -> list[str]:
    return [f"{quote_ident(k)} = {quote_literal(str(v))}" for k, v in sorted((tags or {}).items())]


def _tags_any(tags_any: Mapping[str, Sequence[str]] | None) -> list[str]:
    parts = []
    for key, values in sorted((tags_any or {}).items()):
        if not values:
            raise ValueError(f"tags_any[{key!r}] is empty")
        ors = " OR ".join(f"{quote_ident(key)} = {quote_literal(str(v))}" for v in values)
        parts.append(f"({ors})")
    return parts


def _span(start: datetime, end: datetime) -> str:
    return f"time >= {time_literal(start)} AND time < {time_literal(end)}"


def _condition_value(value: float | bool) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"{value} is not a finite number")
    return repr(number)


def _filters(where: Sequence[tuple[str, str, float | bool]], names: Mapping | None = None) -> list[str]:
    """``(name, op, number or bool)`` conditions; with ``names``, only on those names."""
    filters = []
    for name, op, value in where:
        if (names is not None and name not in names) or op not in _CONDITION_OPS:
            raise ValueError(f"bad condition {name!r} {op!r}")
        filters.append(f"{quote_ident(name)} {op} {_condition_value(value)}")
    return filters


def _either(filters: list[str], where_any: bool) -> str:
    return "(" + (" OR " if where_any else " AND ").join(filters) + ")"


def _window(every: str, offset_ms: int) -> str:
    if not offset_ms:
        return f"time({duration(every)})"
    if offset_ms % 1000:
        return f"time({duration(every)}, {offset_ms}ms)"
    return f"time({duration(every)}, {offset_ms // 1000}s)"


def _group_tail(every: str | None, offset_ms: int, group_by: Sequence[str]) -> str:
    """GROUP BY the window (if any) and the tags; empty windows left out."""
    groups = [quote_ident(t) for t in group_by]
    if every:
        groups.insert(0, _window(every, offset_ms))
    tail = f" GROUP BY {', '.join(groups)}" if groups else ""
    return tail + (" fill(none)" if every else "")


def _selects(calls: Mapping[str, tuple[str, str]], templates: Mapping[str, str], what: str) -> str:
    """``name -> (function, field)`` as ``template(field) AS name``, each function checked."""
    parts = []
    for name, (function, fld) in calls.items():
        if function not in templates:
            raise ValueError(f"unknown {what} {function!r}")
        parts.append(f"{templates[function].format(f=quote_ident(fld))} AS {quote_ident(name)}")
    return ", ".join(parts)


def _outer_selects(outer: Mapping[str, tuple[str, str]], inner: Mapping) -> str:
    parts = []
    for name, (function, alias) in outer.items():
        if function not in _ROLLUP_OUTER or alias not in inner:
            raise ValueError(f"bad outer aggregate {name!r}: {function}({alias})")
        parts.append(f"{function}({quote_ident(alias)}) AS {quote_ident(name)}")
    return ", ".join(parts)


# --- live readings and charts ------------------------------------------------------------


def where_clause(
    tags: Mapping[str, str] | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
) -> str:
    """A WHERE clause from tag equalities and a time range, every value escaped."""
    parts = _tag_equalities(tags)
    if start is not None:
        parts.append(f"time >= {time_literal(start)}")
    if end is not None:
        parts.append(f"time < {time_literal(end)}")
    return (" WHERE " + " AND ".join(parts)) if parts else ""


def latest_statement(
    *,
    start: datetime,
    measurements: Sequence[str] | None = None,
    tags: Mapping[str, str] | None = None,
    points: int = 1,
) -> str:
    """The last ``points`` points since ``start`` of every series (of ``measurements``, or
    of all), newest first."""
    source = ", ".join(quote_ident(m) for m in measurements) if measurements else "/.*/"
    return (
        f"SELECT * FROM {source}{where_clause(tags, start=start)} "
        f"GROUP BY * ORDER BY time DESC LIMIT {int(points)}"
    )


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
    """Downsampled series for charts: ``aggregate`` of each field per ``every`` bucket."""
    if aggregate not in _AGGREGATES:
        raise ValueError(f"unknown aggregate {aggregate!r}")
    if fill not in _FILLS:
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
_HOURLY = {f: f + "({f})" for f in ("mean", "count", "sum", "last", "first", "min", "max")}
_ROLLUP_INNER = {
    "mean": "mean({f})",
    "last": "last({f})",
    "max": "max({f})",
    "min": "min({f})",
    "count": "count({f})",
    "difference_last": "difference(last({f}))",  # a cumulative register's increase per bucket
}
_ROLLUP_OUTER = {"sum", "count", "mean", "max", "min"}
# per-point transformations over consecutive points of a series, each value at the later
# point of the pair: the time between them, the change, a trapezoid's area (field units x
# hours: kW gives kWh), the later point's own value (aligned with the others)
_INTERVAL_INNER = {
    "elapsed": "elapsed({f}, 1ms)",
    "difference": "difference({f})",
    "trapezoid": "moving_average({f}, 2) * elapsed({f}, 1ms) / 3600000",
    "value": "moving_average({f}, 2) + difference({f}) / 2",
}


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
    select = _selects(calls, _HOURLY, "function")
    conditions = [*_tag_equalities(tags), *_tags_any(tags_any), _span(start, end)]
    filters = _filters(where)
    if filters:
        conditions.append(_either(filters, where_any))
    tail = _group_tail(every, int(offset_s) * 1000 + int(offset_ms), group_by)
    return f"SELECT {select} FROM {quote_ident(measurement)} WHERE {' AND '.join(conditions)}{tail}"


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
    conditions = [*_tag_equalities(tags), *_tags_any(tags_any), _span(start, end)]
    groups = f" GROUP BY {', '.join(quote_ident(t) for t in group_by)}" if group_by else ""
    order = " ORDER BY time DESC" if latest else ""
    return (
        f"SELECT {quote_ident(field)} FROM {quote_ident(measurement)} WHERE {' AND '.join(conditions)}"
        f"{groups}{order} LIMIT 1"
    )


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
    select = _selects(inner, _INTERVAL_INNER, "transformation")
    span = _span(start, end)
    conditions = [*_tag_equalities(tags), *_tags_any(tags_any), span]
    series = f" GROUP BY {', '.join(quote_ident(t) for t in group_by)}" if group_by else ""
    subquery = f"SELECT {select} FROM {quote_ident(measurement)} WHERE {' AND '.join(conditions)}{series}"
    filters = _filters(where, inner)
    outer_where = span + (" AND " + _either(filters, where_any) if filters else "")
    if outer is None:
        kept = ", ".join(quote_ident(alias) for alias in inner)
        return f"SELECT {kept} FROM ({subquery}) WHERE {outer_where}{series}"
    tail = _group_tail(every, offset_ms, group_by)
    return f"SELECT {_outer_selects(outer, inner)} FROM ({subquery}) WHERE {outer_where}{tail}"


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
    select = _selects(inner, _ROLLUP_INNER, "inner function")
    conditions = [*_tag_equalities(tags), _span(inner_start or start, end)]
    subquery = (
        f"SELECT {select} FROM {quote_ident(measurement)} "
        f"WHERE {' AND '.join(conditions)} GROUP BY time({duration(bucket)}) fill(none)"
    )
    outer_where = " AND ".join([_span(start, end), *_filters(where, inner)])
    if outer is None:
        kept = ", ".join(quote_ident(alias) for alias in inner)
    else:
        kept = _outer_selects(outer, inner)
    return f"SELECT {kept} FROM ({subquery}) WHERE {outer_where}"
