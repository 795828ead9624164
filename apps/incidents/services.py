"""Incidents: opened from alarms (by hand or automatically), one timeline of everything,
runbook steps ticked off, states, and the post-incident review."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from apps.alarms.choices import OPEN_STATES, Domain, Severity
from apps.alarms.models import Alarm
from apps.alarms.selectors import duration_text, response_times
from apps.audit.services import audit_record
from apps.runbooks.choices import PriorityClass
from apps.runbooks.models import RunbookVersion

from .choices import IncidentState, TimelineKind
from .models import ActionItem, Incident, StepDone, TimelineEvent

GROUP_WINDOW = timedelta(minutes=15)  # alarms at one site this close together belong together
OPEN_INCIDENT_STATES = [IncidentState.OPEN, IncidentState.MITIGATED]


def priority_for(alarms) -> str:
    domains = {a.domain for a in alarms}
    if Domain.SAFETY in domains or any(
        a.domain == Domain.THERMAL and a.severity == Severity.CRITICAL for a in alarms
    ):
        return PriorityClass.PLANT
    if Domain.THERMAL in domains:
        return PriorityClass.HEAT
    return PriorityClass.SERVICE


def impact_for(alarms) -> str:
    domains = {a.domain for a in alarms}
    parts = []
    if Domain.THERMAL in domains:
        parts.append("heat delivery at risk")
    if Domain.COMPUTE in domains:
        parts.append("compute degraded")
    if Domain.NETWORK in domains:
        parts.append("monitoring blind")
    return ", ".join(parts) or "under assessment"


def _timeline(incident: Incident, kind: str, text: str, *, at: datetime, user=None, alarm=None) -> None:
    TimelineEvent.objects.create(incident=incident, kind=kind, text=text, at=at, user=user, alarm=alarm)


def _suggest_runbooks(incident: Incident, alarms) -> None:
    for alarm in alarms:
        runbook = alarm.rule.runbook
        if runbook and runbook.current and not incident.runbooks.filter(runbook=runbook).exists():
            incident.runbooks.add(runbook.current)  # the incident keeps this version


def incident_attach(*, incident: Incident, alarm: Alarm, at: datetime) -> None:
    if incident.alarms.filter(pk=alarm.pk).exists():
        return
    incident.alarms.add(alarm)
    _timeline(
        incident,
        TimelineKind.ALARM,
        f"{alarm.title} ({alarm.get_severity_display()}, {alarm.get_domain_display()}) joined the incident",
        at=alarm.fired_at,
        alarm=alarm,
    )
    _suggest_runbooks(incident, [alarm])


@transaction.atomic
def incident_open(
    *,
    site,
    alarms,
    title: str = "",
    user=None,
    at: datetime | None = None,
    priority_class: str = "",
    impact: str = "",
) -> Incident:
    at = at or timezone.now()
    alarms = list(alarms)
    if any(a.site_id != site.pk for a in alarms):
        raise ValidationError("Every alarm of an incident belongs to its site.")
    if not title:
        title = " + ".join(dict.fromkeys(a.title for a in alarms)) or "Incident"
    incident = Incident.objects.create(
        site=site,
        title=title[:200],
        opened_at=at,
        opened_by=user,
        priority_class=priority_class or priority_for(alarms),
        impact=impact or impact_for(alarms),
    )
    who = user.get_username() if user else "heatops (alarms close together)"
    _timeline(incident, TimelineKind.OPENED, f"Opened by {who}", at=at, user=user)
    for alarm in sorted(alarms, key=lambda a: a.fired_at):
        incident_attach(incident=incident, alarm=alarm, at=at)
    return incident


def group_new_alarm(*, alarm: Alarm) -> Incident | None:
    """A new alarm joins its site's open incident; or, with another open alarm of another
    domain fired close before it, opens one with it."""
    incident = (
        Incident.objects.filter(site=alarm.site, state__in=OPEN_INCIDENT_STATES)
        .order_by("-opened_at")
        .first()
    )
    if incident is not None:
        incident_attach(incident=incident, alarm=alarm, at=alarm.fired_at)
        return incident
    partners = list(
        Alarm.objects.filter(
            site=alarm.site,
            state__in=OPEN_STATES,
            fired_at__gte=alarm.fired_at - GROUP_WINDOW,
            incidents__isnull=True,
        )
        .exclude(pk=alarm.pk)
        .exclude(domain=alarm.domain)
        .select_related("rule__runbook")
    )
    if not partners:
        return None
    return incident_open(site=alarm.site, alarms=[*partners, alarm], at=alarm.fired_at)


def incident_note(*, incident: Incident, user, text: str, at: datetime | None = None) -> None:
    if not text.strip():
        raise ValidationError("Write the note first.")
    _timeline(incident, TimelineKind.NOTE, text.strip(), at=at or timezone.now(), user=user)


@transaction.atomic
def incident_step_done(
    *, incident: Incident, version: RunbookVersion, index: int, user, at: datetime | None = None
) -> None:
    at = at or timezone.now()
    if not incident.runbooks.filter(pk=version.pk).exists():
        raise ValidationError("That runbook is not part of this incident.")
    if not 0 <= index < len(version.steps):
        raise ValidationError("No such step.")
    _, created = StepDone.objects.get_or_create(
        incident=incident, version=version, index=index, defaults={"done_by": user, "done_at": at}
    )
    if created:
        text = f"{version}: step {index + 1} done: {version.steps[index]['text']}"
        _timeline(incident, TimelineKind.STEP, text, at=at, user=user)
        audit_record(
            site=incident.site,
            user=user,
            action="runbook step done",
            obj=incident,
            after={"step": text},
            at=at,
        )


NEXT_STATES = {
    IncidentState.OPEN: {IncidentState.MITIGATED, IncidentState.RESOLVED},
    IncidentState.MITIGATED: {IncidentState.RESOLVED, IncidentState.OPEN},
    IncidentState.RESOLVED: {IncidentState.OPEN},
    IncidentState.REVIEWED: set(),
}


def incident_alarms_still_active(incident: Incident) -> list:
    """The incident's alarms whose condition still holds: marking it mitigated or resolved
    while they fire is allowed, but only knowingly."""
    return list(incident.alarms.filter(state__in=OPEN_STATES, condition_active=True).order_by("fired_at"))


@transaction.atomic
def incident_set_state(
    *, incident: Incident, state: str, user, despite_alarms: bool = False, at: datetime | None = None
) -> Incident:
    """Move the incident on. Mitigated or resolved while some of its alarms' conditions
    still hold needs ``despite_alarms`` (the person has been told which), and the timeline
    says so."""
    at = at or timezone.now()
    incident = Incident.objects.select_for_update().get(pk=incident.pk)
    if state not in NEXT_STATES[incident.state]:
        raise ValidationError(
            f"An incident that is {incident.get_state_display().lower()} cannot become {state}."
        )
    active = (
        incident_alarms_still_active(incident)
        if state in (IncidentState.MITIGATED, IncidentState.RESOLVED)
        else []
    )
    if active and not despite_alarms:
        names = ", ".join(a.title for a in active)
        raise ValidationError(
            f"{len(active)} of this incident's alarms still fire ({names}): tick "
            f"'even though alarms still fire' to mark it {state} anyway."
        )
    was = incident.state
    incident.state = state
    if state == IncidentState.MITIGATED:
        incident.mitigated_at = at
    if state == IncidentState.RESOLVED:
        incident.resolved_at = at
    incident.save()
    still = f", while {len(active)} alarm{'s' if len(active) != 1 else ''} still fired" if active else ""
    audit_record(
        site=incident.site,
        user=user,
        action="incident state",
        obj=incident,
        before={"state": was},
        after={"state": state},
        reason=still.removeprefix(", ").capitalize(),
        at=at,
    )
    _timeline(
        incident,
        TimelineKind.STATE,
        f"{IncidentState(state).label} by {user.get_username()}{still}",
        at=at,
        user=user,
    )
    return incident


@transaction.atomic
def incident_review(
    *,
    incident: Incident,
    user,
    cause: str,
    actions: list[tuple[str, object, object]],
    at: datetime | None = None,
) -> Incident:
    """Close the incident with its cause and action items (text, owner, due date)."""
    at = at or timezone.now()
    incident = Incident.objects.select_for_update().get(pk=incident.pk)
    if incident.state != IncidentState.RESOLVED:
        raise ValidationError("Review an incident once it is resolved.")
    if not cause.strip():
        raise ValidationError("Say what caused it.")
    for text, owner, due in actions:
        ActionItem.objects.create(incident=incident, text=text, owner=owner, due=due)
    incident.cause, incident.reviewed_at, incident.state = cause.strip(), at, IncidentState.REVIEWED
    incident.save()
    _timeline(
        incident, TimelineKind.REVIEW, f"Reviewed by {user.get_username()}: {cause.strip()}", at=at, user=user
    )
    return incident


def incident_times(incident: Incident) -> dict:
    """Time to acknowledge (over its alarms, as the monthly report counts it: the mean over
    those acknowledged, the others counted) and to resolve (from its first alarm, or its
    opening if earlier, to its resolution), in minutes."""
    alarms = list(incident.alarms.all())
    answered = response_times(alarms)
    began = min([incident.opened_at, *(a.fired_at for a in alarms)])
    mttr = (incident.resolved_at - began).total_seconds() if incident.resolved_at else None
    return {
        "mtta_min": answered.mtta_s / 60 if answered.mtta_s is not None else None,
        "mtta_text": answered.mtta_text,
        "mttr_min": mttr / 60 if mttr is not None else None,
        "mttr_text": duration_text(mttr),
    }


def action_item_done(*, action_item_id: int) -> None:
    """Mark a review's action item done (its work order was done)."""
    ActionItem.objects.filter(pk=action_item_id).update(done=True)
