"""What a query answers: series of rows, and the latest reading of a series."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

from .points import FieldValue


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
