"""Alarms heatops raises about itself rather than from a rule on telemetry: InfluxDB
refusing lines the ingest endpoint had accepted, InfluxDB unreachable for too long. Each
is an alarm like any other (routed by RACI, acknowledged, escalated); its rule is of kind
SYSTEM, one per site and purpose, made on first use, which the evaluator never judges
(nobody but heatops raises or clears it)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import transaction

from apps.sites.models import Site
from apps.telemetry.live import Snapshot

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


INFLUX_UNREACHABLE = SystemAlarm(
    name="InfluxDB unreachable",
    title="InfluxDB unreachable: no live data, alarms on telemetry paused",
    severity=Severity.CRITICAL,
    domain=Domain.NETWORK,
    meaning=(
        "heatops cannot read InfluxDB, so no live number on the dashboards is current and no "
        "alarm rule on telemetry can fire; the plant itself keeps running on its own controls. "
        "Readings the site's agents send meanwhile are kept and delivered when InfluxDB is back. "
        "Check the InfluxDB server (its process, disk and network) and watch the plant locally. "
        "This alarm resolves itself when InfluxDB answers again."
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


def system_alarm_resolve(*, site: Site, kind: SystemAlarm, note: str, now: datetime) -> Alarm | None:
    """Resolve the site's open alarm of this kind, if there is one: its cause is gone."""
    with transaction.atomic():
        alarm = (
            Alarm.objects.select_for_update()
            .filter(site=site, rule__kind=RuleKind.SYSTEM, rule__name=kind.name, state__in=OPEN_STATES)
            .first()
        )
        if alarm is not None:
            alarm.condition_active = False
            services._resolve(alarm, now=now, user=None, note=note)
        return alarm


class InfluxWatch:
    """A pump handler: when the pump has not been able to read InfluxDB for
    ``HEATOPS_INFLUX_DOWN_ALARM_S``, every active site gets the InfluxDB-unreachable alarm
    (its RACI decides who is called); the first good read resolves them. The pump is the
    one process that reads InfluxDB all the time, so it is the one that notices."""

    def __init__(self) -> None:
        self.down_since: datetime | None = None
        self.raised = False
        self.checked_open = False

    def __call__(self, snapshot: Snapshot) -> None:
        now = snapshot.taken_at
        if snapshot.influx_ok:
            self.down_since = None
            if self.raised or not self.checked_open:  # after a restart, an alarm may be left open
                for site in Site.objects.filter(alarms__rule__name=INFLUX_UNREACHABLE.name).distinct():
                    system_alarm_resolve(
                        site=site, kind=INFLUX_UNREACHABLE, note="InfluxDB answered again.", now=now
                    )
                self.raised, self.checked_open = False, True
            return
        self.down_since = self.down_since or now
        down_s = (now - self.down_since).total_seconds()
        if self.raised or down_s < settings.HEATOPS_INFLUX_DOWN_ALARM_S:
            return
        for site in Site.objects.filter(is_active=True):
            if not Alarm.objects.filter(
                site=site, rule__name=INFLUX_UNREACHABLE.name, state__in=OPEN_STATES
            ).exists():
                system_alarm_raise(
                    site=site,
                    kind=INFLUX_UNREACHABLE,
                    count=1,
                    detail=f"No answer from InfluxDB for {down_s:.0f} s: {snapshot.error[:300]}",
                    now=now,
                )
        self.raised = True


influx_watch = InfluxWatch()
