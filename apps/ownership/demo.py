"""The demo's on-call rotation: DevOps on-call, weekly, handing over on Mondays at 09:00
London time, Sam then Alex; Responsible for alarm response and compute at the demo sites,
so their alarms page whoever of the two is on call. Made once; safe to repeat."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.db import transaction

from .choices import Area, Raci, RotationKind
from .models import Assignment, Rotation, RotationMember, Team
from .rotations import local, rotation_audit_change, shift_start
from .services import raci_replace

NAME = "DevOps on-call (weekly)"


@transaction.atomic
def seed_demo_rotation(sites, people: list, *, now: datetime) -> str:
    """``people``: the rotation's members in order (the demo's DevOps people)."""
    team, _ = Team.objects.get_or_create(name="DevOps on-call")
    team.members.add(*people)
    rotation = Rotation.objects.filter(name=NAME).first()
    made = rotation is None
    if made:
        rotation = Rotation(
            team=team, name=NAME, kind=RotationKind.WEEKLY, timezone="Europe/London", handover_time=time(9, 0)
        )
        today = local(rotation, now).date()
        rotation.starts_on = today - timedelta(days=today.weekday())  # Sam's week is this one
        if shift_start(rotation, 0) > now:  # a Monday before 09:00: the week began last Monday
            rotation.starts_on -= timedelta(days=7)
        rotation.save()
        for position, user in enumerate(people):
            RotationMember.objects.create(rotation=rotation, user=user, position=position)
        rotation_audit_change(rotation=rotation, before=None, by=None, reason="demo seed", now=now)
    for site in sites:
        if Assignment.objects.filter(site=site, rotation=rotation).exists():
            continue
        grid = {area: {role: [] for role in Raci.values} for area in Area.values}
        for a in Assignment.objects.filter(site=site):
            token = f"u:{a.user_id}" if a.user_id else f"t:{a.team_id}" if a.team_id else f"r:{a.rotation_id}"
            grid[a.area][a.role].append(token)
        rotating = {f"u:{u.pk}" for u in people}
        for area in (Area.ALARM_RESPONSE, Area.COMPUTE):  # the rotation instead of its people
            cell = grid[area][Raci.RESPONSIBLE]
            cell[:] = [t for t in cell if t not in rotating] + [f"r:{rotation.pk}"]
        raci_replace(site=site, grid=grid, reason="demo seed: DevOps on-call is a rotation")
    names = " then ".join(u.get_username() for u in people)
    return f"{rotation.name}: {names}, Mondays 09:00 Europe/London ({'new' if made else 'kept'})"
