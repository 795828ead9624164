"""Reading and changing a site's RACI matrix, and routing by it."""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction

from apps.accounts.selectors import people_with_access
from apps.sites.models import Site

from .choices import AREA_OF_DOMAIN, Area, Raci
from .models import Assignment, Rotation, Team
from .rotations import on_call_at


def raci_matrix(site: Site) -> dict[str, dict[str, list[Assignment]]]:
    """The site's matrix; each assignment's ``without_access`` lists the people it names
    (the person, or the team's active members) who have no access to the site, and so are
    not notified: the page flags them."""
    allowed = set(people_with_access(site).values_list("pk", flat=True))
    matrix = {area: {role: [] for role in Raci.values} for area in Area.values}
    assignments = Assignment.objects.filter(site=site).select_related("user", "team")
    for a in assignments.select_related("rotation").prefetch_related("team__members"):
        if a.rotation_id:
            named = [u for u in a.rotation.members_in_order if u.is_active]
        else:
            named = [a.user] if a.user_id else [u for u in a.team.members.all() if u.is_active]
        a.without_access = [u for u in named if u.pk not in allowed]
        matrix[a.area][a.role].append(a)
    return matrix


def raci_holders(site: Site) -> list[tuple[str, str]]:
    """What a site's matrix may hold, as (token, name): the people with access to the site,
    every team and every on-call rotation (members without access are not notified)."""
    holders = [(f"u:{u.pk}", u.get_full_name() or u.username) for u in people_with_access(site)]
    holders += [(f"t:{t.pk}", f"Team: {t.name}") for t in Team.objects.all()]
    return holders + [(f"r:{r.pk}", f"Rotation: {r.name}") for r in Rotation.objects.all()]


def _holder(token: str, site: Site):
    kind, _, pk = token.partition(":")
    if kind == "u" and pk.isdigit():
        user = people_with_access(site).filter(pk=pk).first()
        return {"user": user} if user else None
    if kind == "t" and pk.isdigit():
        team = Team.objects.filter(pk=pk).first()
        return {"team": team} if team else None
    if kind == "r" and pk.isdigit():
        rotation = Rotation.objects.filter(pk=pk).first()
        return {"rotation": rotation} if rotation else None
    return None


@transaction.atomic
def raci_replace(*, site: Site, grid: dict[str, dict[str, list[str]]], user=None, reason: str = "") -> None:
    """Replace the site's matrix with ``grid`` (area -> role -> holder tokens "u:<id>" or
    "t:<id>"). Every area needs exactly one Accountable; on any error nothing changes and
    the ValidationError names each area that is wrong."""
    errors = {}
    rows = []
    for area in Area.values:
        roles = grid.get(area, {})
        accountable = [t for t in roles.get(Raci.ACCOUNTABLE, []) if t]
        if len(accountable) != 1:
            errors[area] = (
                f"{Area(area).label}: exactly one Accountable is needed ({len(accountable)} given)."
            )
            continue
        for role in Raci.values:
            for token in dict.fromkeys(t for t in roles.get(role, []) if t):
                holder = _holder(token, site)
                if holder is None:
                    errors[area] = (
                        f"{Area(area).label}: {token!r} is not a team or rotation, nor an active person "
                        f"with access to {site.name}."
                    )
                    break
                if "rotation" in holder and role != Raci.RESPONSIBLE:
                    errors[area] = (
                        f"{Area(area).label}: a rotation can only be Responsible "
                        f"({holder['rotation'].name} is chosen as {Raci(role).label})."
                    )
                    break
                rows.append(Assignment(site=site, area=area, role=role, **holder))
    if errors:
        raise ValidationError(errors)
    before = sorted(
        str(a)
        for a in Assignment.objects.filter(site=site).select_related("user", "team", "rotation", "site")
    )
    Assignment.objects.filter(site=site).delete()
    Assignment.objects.bulk_create(rows)
    after = sorted(
        str(a)
        for a in Assignment.objects.filter(site=site).select_related("user", "team", "rotation", "site")
    )
    if before != after:
        from apps.audit.services import audit_record

        audit_record(
            site=site,
            user=user,
            action="changed RACI",
            obj=site,
            before={"assignments": before},
            after={"assignments": after},
            reason=reason,
        )


def area_for_domain(domain: str) -> str:
    return AREA_OF_DOMAIN.get(domain, Area.ALARM_RESPONSE)


def _people(assignments, at: datetime) -> list:
    """The people these cells call at ``at``: a rotation's person on call, if they have
    access to the site; everyone else's people with access."""
    seen, out = set(), []
    for a in assignments:
        if a.rotation_id:
            shift = on_call_at(a.rotation, at)
            users = (
                list(people_with_access(a.site_id).filter(pk=shift.user.pk))
                if shift and shift.user.is_active
                else []
            )
        else:
            users = a.people_with_access()
        for user in users:
            if user.pk not in seen:
                seen.add(user.pk)
                out.append(user)
    return out


def escalation_chain(site: Site, domain: str, *, now: datetime) -> list[list]:
    """Who is called, level by level, for an alarm of ``domain`` at ``site`` at ``now``: the
    area's Responsible (for a rotation, whoever is on call at ``now``), then its Accountable,
    only those with access to the site. Areas without anyone fall back to Alarm response."""
    for area in dict.fromkeys([area_for_domain(domain), Area.ALARM_RESPONSE]):
        assignments = list(
            Assignment.objects.filter(site=site, area=area).select_related("user", "team", "rotation")
        )
        responsible = _people((a for a in assignments if a.role == Raci.RESPONSIBLE), now)
        accountable = _people((a for a in assignments if a.role == Raci.ACCOUNTABLE), now)
        chain = [level for level in (responsible, accountable) if level]
        if chain:
            return chain
    return []
