from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from apps.accounts.flash import flash_outcome
from apps.accounts.permissions import ACT_ON_INCIDENTS, MAINTAIN, can
from apps.accounts.selectors import people_with_access, sites_visible_to
from apps.alarms.selectors import alarms_visible_to, with_accountable
from apps.ownership.selectors import on_call_for
from apps.runbooks.models import RunbookVersion

from . import services
from .models import Incident


def _incident_or_404(user, pk: int) -> Incident:
    incident = Incident.objects.filter(pk=pk, site__in=sites_visible_to(user)).select_related("site").first()
    if incident is None:
        raise Http404("No such incident")
    return incident


@login_required
@require_GET
def incident_list(request):
    incidents = Incident.objects.filter(site__in=sites_visible_to(request.user)).select_related("site")[:200]
    return render(request, "incidents/list.html", {"incidents": incidents})


@login_required
@require_POST
def incident_open(request):
    """Open an incident with the alarms ticked on the alarm list (one site's)."""
    ids = [int(i) for i in request.POST.getlist("ids") if i.isascii() and i.isdigit()]
    alarms = list(alarms_visible_to(request.user).filter(pk__in=ids).select_related("site"))
    if not alarms:
        messages.error(request, "Choose at least one alarm to open an incident with.")
        return redirect("alarms:alarm_list")
    if len({a.site_id for a in alarms}) > 1:
        messages.error(request, "An incident belongs to one site: choose alarms of one site.")
        return redirect("alarms:alarm_list")
    if not can(request.user, ACT_ON_INCIDENTS, alarms[0].site):
        raise PermissionDenied("Your role cannot open incidents here.")
    incident = services.incident_open(site=alarms[0].site, alarms=alarms, user=request.user)
    return redirect("incidents:incident_detail", pk=incident.pk)


@login_required
@require_GET
def incident_detail(request, pk: int):
    incident = _incident_or_404(request.user, pk)
    done = {(s.version_id, s.index): s for s in incident.steps_done.select_related("done_by")}
    runbooks = [
        {"version": v, "steps": [(i, step, done.get((v.pk, i))) for i, step in enumerate(v.steps)]}
        for v in incident.runbooks.select_related("runbook")
    ]
    alarms = with_accountable(
        incident.alarms.select_related("site", "rule", "acknowledged_by", "resolved_by").prefetch_related(
            "incidents"
        )
    )
    marks = [{"t": int(a.fired_at.timestamp() * 1000), "title": a.title} for a in alarms]
    start = min([incident.opened_at, *[a.fired_at for a in alarms]])
    end = incident.resolved_at or None
    return render(
        request,
        "incidents/detail.html",
        {
            "incident": incident,
            "timeline": incident.timeline.select_related("user", "alarm"),
            "runbooks": runbooks,
            "alarms": alarms,
            "times": services.incident_times(incident),
            "marks": marks,
            "window": {
                "start": int(start.timestamp() * 1000) - 30 * 60_000,
                "end": int(end.timestamp() * 1000) + 30 * 60_000 if end else None,
            },
            "next_states": sorted(services.NEXT_STATES[incident.state]),
            "still_active": services.incident_alarms_still_active(incident),
            # who answers for it now: the rotation of its first alarm's area
            "on_call": on_call_for(incident.site, alarms[0].domain if alarms else None, now=timezone.now()),
            "actions": incident.action_items.select_related("owner", "work_order"),
            "can_maintain": can(request.user, MAINTAIN, incident.site),
            "people": people_with_access(incident.site),
        },
    )


def _act(request, incident, fn, ok: str):
    if not can(request.user, ACT_ON_INCIDENTS, incident.site):
        raise PermissionDenied("Your role at this site can read incidents but not change them.")
    flash_outcome(request, fn, ok)
    return redirect("incidents:incident_detail", pk=incident.pk)


@login_required
@require_POST
def incident_note(request, pk: int):
    incident = _incident_or_404(request.user, pk)
    return _act(
        request,
        incident,
        lambda: services.incident_note(
            incident=incident, user=request.user, text=request.POST.get("text", "")
        ),
        "Note added.",
    )


@login_required
@require_POST
def incident_step(request, pk: int):
    """Tick a runbook step off. From the page (htmx) the answer is that step's line alone,
    ticked or with the reason it was not; without htmx, the whole page again."""
    incident = _incident_or_404(request.user, pk)
    pk = request.POST.get("version", "")
    version = RunbookVersion.objects.filter(pk=pk).first() if pk.isascii() and pk.isdigit() else None
    if version is None:
        raise Http404("No such runbook version")
    index = int(request.POST.get("index", "-1")) if request.POST.get("index", "").isdigit() else -1
    if not request.htmx:
        return _act(
            request,
            incident,
            lambda: services.incident_step_done(
                incident=incident, version=version, index=index, user=request.user
            ),
            "Step ticked off.",
        )
    if not can(request.user, ACT_ON_INCIDENTS, incident.site):
        raise PermissionDenied("Your role at this site can read incidents but not change them.")
    if not 0 <= index < len(version.steps):
        raise Http404("No such step")
    error = ""
    try:
        services.incident_step_done(incident=incident, version=version, index=index, user=request.user)
    except ValidationError as exc:
        error = " ".join(exc.messages)
    done = incident.steps_done.select_related("done_by").filter(version=version, index=index).first()
    return render(
        request,
        "incidents/_step.html",
        {
            "incident": incident,
            "version": version,
            "i": index,
            "step": version.steps[index],
            "done": done,
            "error": error,
        },
    )


@login_required
@require_POST
def incident_state(request, pk: int):
    incident = _incident_or_404(request.user, pk)
    state = request.POST.get("state", "")
    return _act(
        request,
        incident,
        lambda: services.incident_set_state(
            incident=incident,
            state=state,
            user=request.user,
            despite_alarms=bool(request.POST.get("despite")),
        ),
        f"Incident {state}.",
    )


@login_required
@require_POST
def incident_review(request, pk: int):
    incident = _incident_or_404(request.user, pk)
    if not can(request.user, ACT_ON_INCIDENTS, incident.site):
        raise PermissionDenied("Your role at this site can read incidents but not change them.")
    actions = []
    people = people_with_access(incident.site)  # an owner must be able to see the incident
    try:
        for text, owner, due in zip(
            request.POST.getlist("action_text"),
            request.POST.getlist("action_owner"),
            request.POST.getlist("action_due"),
            strict=False,
        ):
            if text.strip():
                actions.append((text.strip(), people.get(pk=int(owner)), date.fromisoformat(due)))
    except (ValueError, get_user_model().DoesNotExist):
        messages.error(
            request,
            "Each action item needs its text, an owner with access to the site and a due date (YYYY-MM-DD).",
        )
        return redirect("incidents:incident_detail", pk=incident.pk)
    return _act(
        request,
        incident,
        lambda: services.incident_review(
            incident=incident, user=request.user, cause=request.POST.get("cause", ""), actions=actions
        ),
        "Reviewed.",
    )
