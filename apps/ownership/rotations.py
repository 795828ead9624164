"""On-call rotations: who is on call when, and changing that (overrides, calendar feeds).

A rotation's shift n starts at its hand-over time, a local wall-clock time in the
rotation's time zone, on ``starts_on + n x period`` (7 days or 1), and is taken by member
``n mod len(members)``. Shift starts are computed as local times and only then converted
to UTC, so a 09:00 hand-over stays 09:00 local across a clock change (that week is an hour
shorter or longer). A hand-over time that does not exist on a spring-forward day (01:30
in London) is read with the offset before the change (02:30 local summer time); one that
happens twice in the autumn is the first of the two.

Overrides put someone else on call from one moment to another and take precedence over
the rota; a rotation's overrides never overlap each other. Every change is audited.
"""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction

from apps.audit.services import audit_record
from apps.sites.models import Site
from heatops.tokens import token_digest, token_new, token_well_formed

from .models import CalendarFeed, Rotation, RotationOverride

FEED_PREFIX = "hcal_"
MAX_OVERRIDE = timedelta(days=31)


@dataclass(frozen=True)
class Shift:
    """Someone on call from ``start`` to ``end`` (UTC): a turn of the rota, or an override."""

    user: object
    start: datetime
    end: datetime
    override: RotationOverride | None = None

    @property
    def is_override(self) -> bool:
        return self.override is not None


def _tz(rotation: Rotation) -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(rotation.timezone)


def shift_start(rotation: Rotation, n: int) -> datetime:
    """When shift ``n`` begins, in UTC: the hand-over time, local, on its day."""
    day = rotation.starts_on + timedelta(days=n * rotation.period_days)
    return datetime.combine(day, rotation.handover_time, _tz(rotation)).astimezone(UTC)


def shift_index(rotation: Rotation, at: datetime) -> int:
    """The shift in force at ``at`` (negative before the rotation starts)."""
    n = (at.astimezone(_tz(rotation)).date() - rotation.starts_on).days // rotation.period_days
    while shift_start(rotation, n + 1) <= at:
        n += 1
    while shift_start(rotation, n) > at:
        n -= 1
    return n


def _rota(rotation: Rotation, start: datetime, end: datetime, members: list) -> list[Shift]:
    if not members or end <= start:
        return []
    shifts = []
    n = max(shift_index(rotation, start), 0)
    while (begin := shift_start(rotation, n)) < end:
        shifts.append(Shift(members[n % len(members)], begin, shift_start(rotation, n + 1)))
        n += 1
    return shifts


def timeline(rotation: Rotation, start: datetime, end: datetime) -> list[Shift]:
    """Who is on call from ``start`` to ``end``, as shifts in time order (clipped to the
    span): the rota's turns, with overrides cut in where they apply."""
    members = rotation.members_in_order
    overrides = list(
        rotation.overrides.filter(starts_at__lt=end, ends_at__gt=start)
        .select_related("user")
        .order_by("starts_at")
    )
    out: list[Shift] = []
    for shift in _rota(rotation, start, end, members):
        cursor = shift.start
        for o in overrides:
            if o.ends_at <= cursor or o.starts_at >= shift.end:
                continue
            if o.starts_at > cursor:
                out.append(Shift(shift.user, cursor, o.starts_at))
            cursor = min(o.ends_at, shift.end)
        if cursor < shift.end:
            out.append(Shift(shift.user, cursor, shift.end))
    out += [Shift(o.user, o.starts_at, o.ends_at, o) for o in overrides]  # also before the rota starts
    clipped = [
        Shift(s.user, max(s.start, start), min(s.end, end), s.override)
        for s in sorted(out, key=lambda s: s.start)
    ]
    return [s for s in clipped if s.start < s.end]


def on_call_at(rotation: Rotation, at: datetime) -> Shift | None:
    """The shift in force at ``at``, or None (no members yet, or before the first shift)."""
    shifts = timeline(rotation, at, at + timedelta(seconds=1))
    return shifts[0] if shifts else None


def now_and_next(rotation: Rotation, at: datetime) -> tuple[Shift | None, Shift | None]:
    """Who is on call at ``at`` (their shift, as a whole) and who takes over next: the
    first later shift of someone else, within the next 60 days."""
    shifts = timeline(rotation, at - timedelta(days=rotation.period_days), at + timedelta(days=60))
    current = next((s for s in shifts if s.start <= at < s.end), None)
    after = [s for s in shifts if s.start >= (current.end if current else at)]
    who = current.user if current else None
    upcoming = next((s for s in after if s.user != who), None)
    return current, upcoming


def local(rotation: Rotation, when: datetime) -> datetime:
    return when.astimezone(_tz(rotation))


# --- who may see and change a rotation ---------------------------------------------------


def is_member(rotation: Rotation, user) -> bool:
    return rotation.members.filter(user=user).exists() or rotation.team.members.filter(pk=user.pk).exists()


def rotation_sites(rotation: Rotation):
    return Site.objects.filter(raci__rotation=rotation).distinct()


# --- overrides --------------------------------------------------------------------------


def _override_values(o: RotationOverride) -> dict:
    return {
        "user": o.user.get_username(),
        "starts_at": local(o.rotation, o.starts_at).isoformat(),  # as the rotation's people read it
        "ends_at": local(o.rotation, o.ends_at).isoformat(),
        "reason": o.reason,
    }


def _audit(*, user, action: str, obj, before=None, after=None, reason="", at=None):
    """Rotations belong to a team, not a site: their entries have no site. Changes of a
    rotation's overrides are entries of the rotation (its page lists them)."""
    audit_record(
        site=None, user=user, action=action, obj=obj, before=before, after=after, reason=reason, at=at
    )


@transaction.atomic
def override_add(
    *, rotation: Rotation, user, starts_at: datetime, ends_at: datetime, reason: str, by, now: datetime
) -> RotationOverride:
    """Put ``user`` (a member of the rotation or of its team) on call from ``starts_at`` to
    ``ends_at`` instead of the rota's person. Refused if it overlaps another override,
    is over, lasts more than 31 days or says not why."""
    rotation = Rotation.objects.select_for_update().get(pk=rotation.pk)
    if not reason.strip():
        raise ValidationError("Say why (for example: swap with Alex for Tuesday): the audit log keeps it.")
    if user is None or not user.is_active or not is_member(rotation, user):
        raise ValidationError(f"The person on call must be a member of {rotation.name} or of its team.")
    if ends_at <= starts_at:
        raise ValidationError("An override ends after it starts.")
    if ends_at <= now:
        raise ValidationError("That override would already be over.")
    if ends_at - starts_at > MAX_OVERRIDE:
        raise ValidationError("An override lasts at most 31 days: change the rotation's members instead.")
    clash = rotation.overrides.filter(starts_at__lt=ends_at, ends_at__gt=starts_at).first()
    if clash:
        raise ValidationError(
            f"It overlaps another override ({clash.user.get_username()}, "
            f"{local(rotation, clash.starts_at):%a %d %b %H:%M}): remove that one first."
        )
    override = RotationOverride.objects.create(
        rotation=rotation,
        user=user,
        starts_at=starts_at,
        ends_at=ends_at,
        reason=reason.strip()[:200],
        created_by=by if by and by.is_authenticated else None,
        created_at=now,
    )
    _audit(
        user=by,
        action="added on-call override",
        obj=rotation,
        after=_override_values(override),
        reason=override.reason,
        at=now,
    )
    return override


@transaction.atomic
def override_remove(*, override: RotationOverride, by, reason: str, now: datetime) -> None:
    if not reason.strip():
        raise ValidationError("Say why the override goes: the audit log keeps it.")
    override = (
        RotationOverride.objects.select_for_update().select_related("rotation", "user").get(pk=override.pk)
    )
    _audit(
        user=by,
        action="removed on-call override",
        obj=override.rotation,
        before=_override_values(override),
        reason=reason.strip(),
        at=now,
    )
    override.delete()


def rotation_values(rotation: Rotation) -> dict:
    """A rotation's definition as the audit log keeps it."""
    return {
        "team": str(rotation.team),
        "kind": rotation.kind,
        "timezone": rotation.timezone,
        "handover_time": rotation.handover_time.isoformat(timespec="minutes"),
        "starts_on": rotation.starts_on.isoformat(),
        "members": [u.get_username() for u in rotation.members_in_order],
    }


def rotation_audit_change(
    *, rotation: Rotation, before: dict | None, by, reason: str = "", now: datetime
) -> None:
    """Audit a rotation created or changed (in the admin): its definition before and after."""
    after = rotation_values(rotation)
    if before != after:
        action = "created rotation" if before is None else "changed rotation"
        _audit(user=by, action=action, obj=rotation, before=before, after=after, reason=reason, at=now)


# --- calendar feeds ---------------------------------------------------------------------


@transaction.atomic
def calendar_feed_issue(*, user, now: datetime) -> tuple[CalendarFeed, str]:
    """A new secret feed address for ``user``; any earlier one is revoked (one at a time)."""
    for feed in CalendarFeed.objects.select_for_update().filter(user=user, revoked_at=None):
        _revoke(feed, by=user, now=now, why="replaced by a new feed address")
    new = token_new(FEED_PREFIX)
    feed = CalendarFeed.objects.create(user=user, key_hash=new.digest, prefix=new.prefix, created_at=now)
    _audit(user=user, action="issued calendar feed", obj=feed, after={"prefix": feed.prefix}, at=now)
    return feed, new.raw


def _revoke(feed: CalendarFeed, *, by, now: datetime, why: str) -> None:
    feed.revoked_at = now
    feed.save(update_fields=["revoked_at"])
    _audit(
        user=by,
        action="revoked calendar feed",
        obj=feed,
        before={"prefix": feed.prefix},
        after={"prefix": feed.prefix, "revoked_at": now.isoformat()},
        reason=why,
        at=now,
    )


@transaction.atomic
def calendar_feed_revoke(*, user, now: datetime) -> int:
    """Revoke ``user``'s feed address: calendar apps using it get 404 from now on."""
    feeds = list(CalendarFeed.objects.select_for_update().filter(user=user, revoked_at=None))
    for feed in feeds:
        _revoke(feed, by=user, now=now, why="revoked by its owner")
    return len(feeds)


def calendar_feed_user(*, raw: str, now: datetime):
    """The active person behind a feed token, or None; looked up by its hash only."""
    if not token_well_formed(raw, FEED_PREFIX):
        return None
    feed = (
        CalendarFeed.objects.select_related("user")
        .filter(key_hash=token_digest(raw), revoked_at=None)
        .first()
    )
    if feed is None or not feed.user.is_active:
        return None
    CalendarFeed.objects.filter(pk=feed.pk).update(last_used_at=now)
    return feed.user
