"""Report periods: a range of whole local days [start, end) in a site's time zone, so a
month runs from local midnight on the 1st to local midnight on the 1st of the next month
(743 or 745 hours in a month where the clocks change)."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property
from zoneinfo import ZoneInfo

MONTH = re.compile(r"^(\d{4})-(\d{2})$")


@dataclass(frozen=True)
class Period:
    start: date  # first local day, included
    end: date  # first local day after the period
    tz: str
    until: datetime | None = None  # a period in progress: the figures cover [start, until)

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise ValueError("a period ends after it starts")

    @cached_property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.tz)

    @cached_property
    def start_utc(self) -> datetime:
        return datetime.combine(self.start, time(), tzinfo=self.zone).astimezone(UTC)

    @cached_property
    def end_utc(self) -> datetime:
        return datetime.combine(self.end, time(), tzinfo=self.zone).astimezone(UTC)

    @cached_property
    def stop_utc(self) -> datetime:
        """The end of the time the figures cover: the period's end, or ``until`` while the
        period is in progress (its start, for a period that has not begun)."""
        if self.until is None:
            return self.end_utc
        return max(self.start_utc, min(self.end_utc, self.until.astimezone(UTC)))

    @property
    def in_progress(self) -> bool:
        return self.stop_utc < self.end_utc

    @property
    def elapsed_seconds(self) -> int:
        return int((self.stop_utc - self.start_utc).total_seconds())

    @property
    def elapsed_share(self) -> float:
        """The share of the period that has elapsed (1 once it is over)."""
        return self.elapsed_seconds / self.seconds

    @property
    def seconds(self) -> int:
        return int((self.end_utc - self.start_utc).total_seconds())

    @property
    def hours(self) -> float:
        return self.seconds / 3600

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    @property
    def is_month(self) -> bool:
        return self.start.day == 1 and self.end == next_month_start(self.start)

    @property
    def label(self) -> str:
        if self.is_month:
            return f"{self.start:%Y-%m}"
        return f"{self.start:%Y-%m-%d} to {self.end - timedelta(days=1):%Y-%m-%d}"

    @property
    def key(self) -> str:
        key = f"{self.start.isoformat()}/{self.end.isoformat()}/{self.tz}"
        return key + f"/{self.stop_utc.isoformat()}" if self.in_progress else key

    def as_of(self, now: datetime) -> Period:
        """The period as it stands at ``now``: in progress (its figures up to ``now``) if it
        is not over yet, else itself."""
        if now.tzinfo is None:
            raise ValueError("now must be timezone-aware")
        if now >= self.end_utc:
            return Period(self.start, self.end, self.tz)
        return Period(self.start, self.end, self.tz, until=now.astimezone(UTC))

    @property
    def offset_s(self) -> int:
        """Where local hours start, in seconds past whole UTC hours (1800 for +05:30)."""
        return int(self.start_utc.timestamp()) % 3600

    @property
    def months(self) -> float:
        """Calendar months covered, each partial month pro-rated by its days."""
        total, day = 0.0, self.start
        while day < self.end:
            month_end = next_month_start(day)
            stop = min(month_end, self.end)
            total += (stop - day).days / calendar.monthrange(day.year, day.month)[1]
            day = stop
        return total

    @property
    def months_elapsed(self) -> float:
        """Calendar months covered so far: ``months`` pro-rated by the time elapsed."""
        return self.months * self.elapsed_share

    def local(self, epoch_ms: int) -> datetime:
        return datetime.fromtimestamp(epoch_ms / 1000, self.zone)


def next_month_start(day: date) -> date:
    return date(day.year + (day.month == 12), day.month % 12 + 1, 1)


def month_period(tz: str, year: int, month: int) -> Period:
    start = date(year, month, 1)
    return Period(start, next_month_start(start), tz)


QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")


def quarter_period(tz: str, year: int, quarter: int) -> Period:
    start = date(year, 3 * quarter - 2, 1)
    return Period(start, date(year + (quarter == 4), (3 * quarter) % 12 + 1, 1), tz)


def year_period(tz: str, year: int) -> Period:
    return Period(date(year, 1, 1), date(year + 1, 1, 1), tz)


def period_from_query(query, tz: str) -> Period:
    """The period a report page asks for: ``quarter=2026-Q3``, ``year=2026``, or
    ``start=2026-10-01&end=2026-10-15`` (whole local days, ``end`` excluded)."""
    if query.get("quarter"):
        match = QUARTER.match(query["quarter"])
        if not match or int(match[1]) < 2000:
            raise ValueError(f"{query['quarter']!r} is not a quarter such as 2026-Q3")
        return quarter_period(tz, int(match[1]), int(match[2]))
    if query.get("year"):
        if not re.fullmatch(r"\d{4}", query["year"]) or int(query["year"]) < 2000:
            raise ValueError(f"{query['year']!r} is not a year such as 2026")
        return year_period(tz, int(query["year"]))
    return Period(date.fromisoformat(query.get("start", "")), date.fromisoformat(query.get("end", "")), tz)


def parse_month(value: str) -> tuple[int, int]:
    match = MONTH.match(value or "")
    if not match or not 1 <= int(match[2]) <= 12 or int(match[1]) < 2000:
        raise ValueError(f"{value!r} is not a month such as 2026-10")
    return int(match[1]), int(match[2])


def previous_month(year: int, month: int) -> tuple[int, int]:
    return (year - 1, 12) if month == 1 else (year, month - 1)


def last_month(today: date) -> tuple[int, int]:
    return previous_month(today.year, today.month)


def last_month_at(tz: str, now: datetime | None = None) -> tuple[int, int]:
    """The month before the one running at ``now`` by the local clock of ``tz`` (the last
    complete month there)."""
    return last_month(local_today(tz, now))


def local_today(tz: str, now: datetime | None = None) -> date:
    return (now or datetime.now(UTC)).astimezone(ZoneInfo(tz)).date()
