from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Case, IntegerField, QuerySet, Value, When

from apps.accounts.selectors import sites_visible_to
from apps.ownership.selectors import accountables_for_sites

from .choices import OPEN_STATES, SEVERITY_ORDER, EventKind
from .models import Alarm, AlarmEvent, AlarmRule

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


def alarms_fired(*, site, start: datetime, end: datetime) -> QuerySet[Alarm]:
    """A site's alarms that fired in [start, end)."""
    return Alarm.objects.filter(site=site, fired_at__gte=start, fired_at__lt=end)


# a person's hand on an alarm, as its history records it
MANUAL_EVENTS = [EventKind.ACKNOWLEDGED, EventKind.RESOLVED, EventKind.SHELVED]


def manual_interventions(*, site, start: datetime, end: datetime) -> int:
    """Acknowledgements, resolutions and shelvings by a person on a site's alarms in [start, end)."""
    return AlarmEvent.objects.filter(
        kind__in=MANUAL_EVENTS, user__isnull=False, alarm__site=site, at__gte=start, at__lt=end
    ).count()


def duration_text(seconds: float | None) -> str:
    """A response time as people read it: seconds under a minute, minutes under an hour,
    then hours and minutes; '—' for none."""
    if seconds is None:
        return "—"
    if seconds < 59.5:
        return f"{seconds:.0f} s"
    if seconds < 3570:
        return f"{seconds / 60:.0f} min"
    hours, minutes = divmod(round(seconds / 60), 60)
    return f"{hours} h {minutes:02d} min"


@dataclass(frozen=True)
class ResponseTimes:
    """How alarms were answered. The mean time to acknowledge is over the alarms that were
    acknowledged; the alarms never acknowledged (still open, or resolved or cleared without
    anyone acknowledging them) are counted beside it, never averaged in as zero or dropped
    unsaid. The mean time to resolve likewise over the alarms resolved."""

    alarms: int
    acknowledged: int
    mtta_s: float | None
    resolved: int
    mttr_s: float | None

    @property
    def unacknowledged(self) -> int:
        return self.alarms - self.acknowledged

    @property
    def mtta_text(self) -> str:
        if not self.alarms:
            return "— (no alarms)"
        if not self.acknowledged:
            return f"— (none of {self.alarms} alarm{'s' if self.alarms != 1 else ''} acknowledged)"
        text = duration_text(self.mtta_s)
        if self.unacknowledged:
            text += (
                f" over {self.acknowledged} of {self.alarms} alarms; {self.unacknowledged} never acknowledged"
            )
        return text

    @property
    def mttr_text(self) -> str:
        if not self.resolved:
            return "—" if not self.alarms else f"— (none of {self.alarms} resolved)"
        text = duration_text(self.mttr_s)
        if self.resolved < self.alarms:
            text += f" over {self.resolved} of {self.alarms} alarms"
        return text


def response_times(alarms: Iterable[Alarm]) -> ResponseTimes:
    """Acknowledgement and resolution times of ``alarms`` (each from its firing)."""
    alarms = list(alarms)
    acks = [(a.acknowledged_at - a.fired_at).total_seconds() for a in alarms if a.acknowledged_at]
    fixes = [(a.resolved_at - a.fired_at).total_seconds() for a in alarms if a.resolved_at]
    return ResponseTimes(
        alarms=len(alarms),
        acknowledged=len(acks),
        mtta_s=sum(acks) / len(acks) if acks else None,
        resolved=len(fixes),
        mttr_s=sum(fixes) / len(fixes) if fixes else None,
    )


def rule_fired_since(*, rule_id: int, since) -> tuple[Alarm, object] | None:
    """The first time ``rule`` fired (or fired again on its open alarm) at or after ``since``:
    (the alarm, when), or None."""
    event = (
        AlarmEvent.objects.filter(
            alarm__rule_id=rule_id, kind__in=[EventKind.FIRED, EventKind.RECURRED], at__gte=since
        )
        .select_related("alarm__rule")
        .order_by("at", "pk")
        .first()
    )
    return (event.alarm, event.at) if event else None


def site_rules_named(site, names) -> dict[str, AlarmRule]:
    """The site's alarm rules by name, of those named; a name "*<end>" names the site's first
    rule (by id) whose name ends so, e.g. "* inlet too hot" the first rack's."""
    names = list(names)
    out = {}
    for name in [n for n in names if n.startswith("*")]:
        rule = AlarmRule.objects.filter(site=site, name__endswith=name[1:]).order_by("pk").first()
        if rule is not None:
            out[name] = rule
    for r in AlarmRule.objects.filter(site=site, name__in=names).select_related("runbook"):
        out[r.name] = r
    return out
