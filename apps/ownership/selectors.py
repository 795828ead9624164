"""Reading ownership for other apps: a site's RACI matrix, the rotations a person may see
and change, and who is on call for a site's alarms now and next."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q, QuerySet

from apps.accounts.permissions import EDIT_OWNERSHIP, can
from apps.accounts.selectors import sites_visible_to
from apps.sites.models import Site

from .choices import Area, Raci
from .models import Assignment, Rotation
from .rotations import Shift, is_member, now_and_next, rotation_sites
from .services import area_for_domain


@dataclass(frozen=True)
class Accountables:
    """The Accountable of every area of some sites, by (site id, area): their names."""

    names: dict[tuple[int, str], str]

    def for_alarm(self, site_id: int, domain: str) -> str | None:
        """Who is Accountable for an alarm of ``domain`` at the site: its area's holder,
        falling back to Alarm response's, as escalation does; None if neither has one."""
        return self.names.get((site_id, area_for_domain(domain))) or self.names.get(
            (site_id, Area.ALARM_RESPONSE)
        )


def accountables_for_sites(site_ids: Iterable[int]) -> Accountables:
    """The Accountable of every area of these sites, in one query however many sites."""
    rows = Assignment.objects.filter(site_id__in=set(site_ids), role=Raci.ACCOUNTABLE).select_related(
        "user", "team"
    )
    return Accountables({(a.site_id, a.area): a.holder for a in rows})


def rotations_visible_to(user) -> QuerySet[Rotation]:
    """A rotation is seen by its members and its team's, by everyone who may see a site whose
    RACI names it, and by superusers."""
    if not user or not user.is_authenticated or not user.is_active:
        return Rotation.objects.none()
    rotations = Rotation.objects.select_related("team")
    if user.is_superuser:
        return rotations
    return rotations.filter(
        Q(members__user=user) | Q(team__members=user) | Q(assignments__site__in=sites_visible_to(user))
    ).distinct()


def rotation_visible_to(user, pk: int) -> Rotation | None:
    return rotations_visible_to(user).filter(pk=pk).first()


def may_change_rotation(user, rotation: Rotation) -> bool:
    """Who may add and remove overrides: the rotation's (and its team's) members, who swap
    among themselves; administrators of a site whose RACI names it; superusers."""
    if not user or not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser or is_member(rotation, user):
        return True
    return any(can(user, EDIT_OWNERSHIP, site) for site in rotation_sites(rotation))


@dataclass(frozen=True)
class OnCallNow:
    rotation: Rotation
    area: str
    now: Shift | None
    next: Shift | None

    @property
    def area_label(self) -> str:
        return Area(self.area).label


def on_call_for(site: Site, domain: str | None, *, now: datetime) -> list[OnCallNow]:
    """The rotations Responsible for ``domain``'s area at ``site`` (or for alarm response,
    where that area has no one Responsible, as escalation falls back), each with who is on
    call at ``now`` and who takes over next. ``domain`` None: alarm response."""
    areas = list(
        dict.fromkeys([area_for_domain(domain) if domain else Area.ALARM_RESPONSE, Area.ALARM_RESPONSE])
    )
    responsible = list(  # one query; each rotation found then reads its members and overrides
        Assignment.objects.filter(site=site, area__in=areas, role=Raci.RESPONSIBLE).select_related(
            "rotation", "rotation__team"
        )
    )
    for area in areas:
        cell = [a for a in responsible if a.area == area]
        if cell:
            return [
                OnCallNow(a.rotation, area, *now_and_next(a.rotation, now)) for a in cell if a.rotation_id
            ]
    return []


def people_informed(*, site, area: str) -> list:
    """The people Informed for ``area`` at the site (a team's members included) who may see
    the site."""
    people = {}
    for assignment in Assignment.objects.filter(site=site, area=area, role=Raci.INFORMED).select_related(
        "user", "team"
    ):
        for user in assignment.people_with_access():
            people[user.pk] = user
    return list(people.values())
