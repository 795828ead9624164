"""On-call rotations as iCalendar (RFC 5545): one VEVENT per shift, in UTC.

Times are written in UTC ("...Z"), which every calendar shows in its own time zone; a
shift's start and end are the rotation's local hand-over times converted (rotations.py),
so a clock change needs no VTIMEZONE. Each event's UID is stable (rotation, start and
whether it is an override), so a calendar app refreshing the feed updates events in place.
Lines end in CRLF and are folded at 75 octets; text is escaped as section 3.3.11 says.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from .models import Rotation
from .rotations import local, timeline

PAST = timedelta(days=30)
AHEAD = timedelta(days=180)


def _text(value: str) -> str:
    for raw, escaped in (("\\", "\\\\"), (";", "\\;"), (",", "\\,"), ("\r\n", "\\n"), ("\n", "\\n")):
        value = value.replace(raw, escaped)
    return value


def _fold(line: str) -> str:
    """Split a content line into chunks of at most 75 octets, never inside a character."""
    out, chunk, size = [], "", 0
    for ch in line:
        n = len(ch.encode())
        if size + n > (75 if not out else 74):  # continuation lines start with a space
            out.append(chunk)
            chunk, size = "", 0
        chunk += ch
        size += n
    out.append(chunk)
    return "\r\n ".join(out)


def _stamp(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def person(user) -> str:
    return user.get_full_name() or user.get_username()


def rotation_events(rotation: Rotation, *, now: datetime, host: str) -> list[list[str]]:
    lines = []
    for shift in timeline(rotation, now - PAST, now + AHEAD):
        kind = "override" if shift.is_override else "shift"
        start_local = local(rotation, shift.start)
        description = (
            f"{person(shift.user)} is on call for {rotation.name} ({rotation.team}) from "
            f"{start_local:%a %d %b %H:%M} to {local(rotation, shift.end):%a %d %b %H:%M} {rotation.timezone}."
        )
        if shift.is_override:
            description += f" Override: {shift.override.reason}"
        lines.append(
            [
                "BEGIN:VEVENT",
                f"UID:rotation-{rotation.pk}-{kind}-{_stamp(shift.start)}@{host}",
                f"DTSTAMP:{_stamp(now)}",
                f"DTSTART:{_stamp(shift.start)}",
                f"DTEND:{_stamp(shift.end)}",
                f"SUMMARY:{_text(f'On call: {person(shift.user)} ({rotation.name})')}",
                f"DESCRIPTION:{_text(description)}",
                "TRANSP:TRANSPARENT",
                "END:VEVENT",
            ]
        )
    return lines


def calendar(rotations: list[Rotation], *, now: datetime, host: str, name: str) -> str:
    """The VCALENDAR for ``rotations``: shifts from 30 days ago to 180 days ahead."""
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//heatops//on-call rotations//EN",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{_text(name)}",
    ]
    for rotation in rotations:
        for event in rotation_events(rotation, now=now, host=host):
            lines += event
    lines.append("END:VCALENDAR")
    return "".join(_fold(line) + "\r\n" for line in lines)
