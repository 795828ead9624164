from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Case, IntegerField, QuerySet, Value, When

from apps.accounts.selectors import sites_visible_to
from apps.ownership.selectors import accountables_for_sites

from .choices import OPEN_STATES, SEVERITY_ORDER
from .models import Alarm

SEVERITY_RANK = Case(
    *[When(severity=s, then=Value(i)) for i, s in enumerate(SEVERITY_ORDER)], output_field=IntegerField()
)
SORTS = {
    "newest": ["-fired_at"],
    "oldest": ["fired_at"],
    "severity": ["severity_rank", "-fired_at"],
    "site": ["site__name", "-fired_at"],
}


def alarms_visible_to(user) -> QuerySet[Alarm]:
    return (
        Alarm.objects.filter(site__in=sites_visible_to(user))
        .select_related("site", "rule", "acknowledged_by", "resolved_by")
        .prefetch_related("incidents")
        .annotate(severity_rank=SEVERITY_RANK)
    )


def with_accountable(alarms: Iterable[Alarm]) -> list[Alarm]:
    """The alarms, each with its ``accountable`` attached: one query for all of them."""
    alarms = list(alarms)
    accountables = accountables_for_sites({a.site_id for a in alarms})
    for alarm in alarms:
        alarm.accountable = accountables.for_alarm(alarm.site_id, alarm.domain)
    return alarms


MAINTENANCE_FILTERS = {"held": True, "not": False}  # ?maintenance=held|not


def alarm_list(
    *,
    user,
    site: str = "",
    severity: str = "",
    domain: str = "",
    state: str = "open",
    sort: str = "severity",
    maintenance: str = "",
) -> QuerySet[Alarm]:
    """The alarms ``user`` may see, filtered; ``maintenance`` "held" keeps those a
    maintenance window holds (not paged), "not" the others."""
    qs = alarms_visible_to(user)
    if maintenance in MAINTENANCE_FILTERS:
        qs = qs.filter(in_maintenance=MAINTENANCE_FILTERS[maintenance])
    if site:
        qs = qs.filter(site__slug=site)
    if severity:
        qs = qs.filter(severity=severity)
    if domain:
        qs = qs.filter(domain=domain)
    if state == "open":
        qs = qs.filter(state__in=OPEN_STATES)
    elif state:
        qs = qs.filter(state=state)
    return qs.order_by(*SORTS.get(sort, SORTS["severity"]))


def open_alarm_counts(site_ids) -> dict[int, int]:
    from django.db.models import Count

    rows = (
        Alarm.objects.filter(site_id__in=site_ids, state__in=OPEN_STATES)
        .values("site_id")
        .annotate(n=Count("id"))
    )
    return {r["site_id"]: r["n"] for r in rows}


def open_alarms_for_sites(site_ids, limit: int = 50) -> dict[int, list[Alarm]]:
    """Each site's open alarms, root cause first: the one that fired first leads (a
    stopped pump before the hot racks it causes), severity breaking ties."""
    out: dict[int, list[Alarm]] = {}
    qs = (
        Alarm.objects.filter(site_id__in=site_ids, state__in=OPEN_STATES)
        .select_related("acknowledged_by", "resolved_by", "site", "rule")
        .prefetch_related("incidents")  # each alarm links its incident, without a query each
        .annotate(severity_rank=SEVERITY_RANK)
        .order_by("fired_at", "severity_rank", "pk")
    )
    for alarm in with_accountable(qs[:limit]):  # rendered every tick: no query per alarm
        out.setdefault(alarm.site_id, []).append(alarm)
    return out
