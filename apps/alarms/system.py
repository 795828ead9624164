"""Alarms heatops raises about itself rather than from a rule on telemetry: for example
InfluxDB refusing lines the ingest endpoint had accepted. Each is an alarm like any other
(routed by RACI, acknowledged, escalated); its rule is of kind SYSTEM, one per site and
purpose, made on first use, which the evaluator never judges (nobody but heatops raises
or clears it)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction

from apps.sites.models import Site

from . import services
from .choices import OPEN_STATES, Domain, EventKind, RuleKind, Severity
from .models import Alarm, AlarmRule


@dataclass(frozen=True, slots=True)
class SystemAlarm:
    """What one kind of system alarm is: its rule's name (the key), severity, domain, meaning."""

    name: str
    title: str  # with {count} and {s} (plural ending), e.g. "{count} line{s} refused"
    severity: str
    domain: str
    meaning: str


INGEST_REFUSED = SystemAlarm(
    name="Ingest: lines refused by InfluxDB after acceptance",
    title="ingest: {count} line{s} refused by InfluxDB after acceptance",
    severity=Severity.MAJOR,
    domain=Domain.NETWORK,
    meaning=(
        "InfluxDB refused lines that heatops had already accepted from this site's agent, so "
        "those readings are not in the charts or the reports. The batches are kept on disk "
        "(spool/failed/) and listed in the admin under Ingest → Refused batches: tell the "
        "developers what InfluxDB said; the agent was told they were stored and will not resend them."
    ),
)


def _rule(site: Site, kind: SystemAlarm) -> AlarmRule:
    rule, _ = AlarmRule.objects.get_or_create(
        site=site,
        kind=RuleKind.SYSTEM,
        name=kind.name,
        defaults={"severity": kind.severity, "domain": kind.domain, "meaning": kind.meaning},
    )
    return rule


def system_alarm_raise(*, site: Site, kind: SystemAlarm, count: int, detail: str, now: datetime) -> Alarm:
    """Raise the site's alarm of this kind for ``count`` occurrences (lines, minutes, ...),
    or, if it is open, add them to it: its title and value say the total since it fired,
    its history keeps each occurrence with its detail."""
    with transaction.atomic():
        rule = _rule(site, kind)
        alarm = Alarm.objects.select_for_update().filter(rule=rule, state__in=OPEN_STATES).first()
        if alarm is None:
            alarm = services.alarm_raise(rule=rule, value=float(count), detail=detail, now=now)
            total = count
        else:
            total = int(alarm.value or 0) + count
            alarm.occurrences += 1
            services._event(alarm, EventKind.RECURRED, at=now, note=detail)
            services._after_commit(alarm, None)
        alarm.title = kind.title.format(count=total, s="" if total == 1 else "s")
        alarm.value = float(total)
        alarm.save(update_fields=["title", "value", "occurrences", "updated_at"])
        return alarm
