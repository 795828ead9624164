"""Reading a site's RACI matrix for other apps."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .choices import Area, Raci
from .models import Assignment
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
