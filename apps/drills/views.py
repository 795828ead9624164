"""The site's commissioning page: its checklist, the drill running now (the page polls it
while it runs), and past drills step by step. Everyone who may see the site reads it;
estates staff and site administrators run drills."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from apps.accounts.flash import flash_outcome
from apps.accounts.permissions import RUN_DRILLS, can
from apps.accounts.selectors import site_visible_or_404
from apps.simulator.selectors import site_is_simulated

from . import services
from .choices import DrillMode, DrillState
from .models import Drill, DrillStep
from .selectors import site_drills

READ_ONLY = "Your role at this site reads drills; estates staff and site administrators run them."


def _site_or_404(request, slug: str):
    return site_visible_or_404(request.user, slug)


def _may_run(request, site) -> None:
    if not can(request.user, RUN_DRILLS, site):
        raise PermissionDenied(READ_ONLY)


@login_required
@require_GET
def commissioning_page(request, slug: str):
    site = _site_or_404(request, slug)
    drills = list(site_drills(site)[:20])
    running = next((d for d in drills if d.state == DrillState.RUNNING), None)
    context = {
        "site": site,
        "checklist": services.checklist_ensure(site=site),
        "drills": drills,
        "running": running,
        "simulated": site_is_simulated(site),
        "may_run": can(request.user, RUN_DRILLS, site),
    }
    pk = request.GET.get("drill", "")
    if request.htmx and pk.isdigit():  # the running drill's section, polled while it runs
        drill = next((d for d in drills if d.pk == int(pk)), None) or site_drills(site).filter(pk=pk).first()
        if drill is None:
            raise Http404("No such drill")
        return render(request, "drills/_drill.html", {**context, "drill": drill})
    return render(request, "drills/commissioning.html", context)


def _done(request, site, fn, ok: str):
    flash_outcome(request, fn, ok)
    return redirect("drills:commissioning", slug=site.slug)


@login_required
@require_POST
def drill_create(request, slug: str):
    site = _site_or_404(request, slug)
    _may_run(request, site)
    mode = DrillMode.SIMULATED if site_is_simulated(site) else DrillMode.MANUAL
    ok = (
        "Drill started: the simulator plays each scenario in turn."
        if mode == DrillMode.SIMULATED
        else ("Drill started: tick each scenario with its evidence.")
    )
    return _done(
        request,
        site,
        lambda: services.drill_start(
            site=site, user=request.user, mode=mode, settle_s=settings.HEATOPS_DRILL_SETTLE_S
        ),
        ok,
    )


@login_required
@require_POST
def drill_stop(request, slug: str, pk: int):
    site = _site_or_404(request, slug)
    _may_run(request, site)
    drill = Drill.objects.filter(pk=pk, site=site).first()
    if drill is None:
        raise Http404("No such drill")
    reason = request.POST.get("reason", "")
    return _done(
        request,
        site,
        lambda: services.drill_abort(drill=drill, user=request.user, reason=reason),
        "Drill stopped; the simulator is back to normal.",
    )


@login_required
@require_POST
def drill_step_tick(request, slug: str, pk: int):
    site = _site_or_404(request, slug)
    _may_run(request, site)
    step = DrillStep.objects.filter(pk=pk, drill__site=site).select_related("drill").first()
    if step is None:
        raise Http404("No such step")
    passed = request.POST.get("result") == "passed"
    return _done(
        request,
        site,
        lambda: services.drill_step_check(
            step=step, user=request.user, passed=passed, evidence=request.POST.get("evidence", "")
        ),
        f"{step.get_scenario_display()}: {'passed' if passed else 'failed'}.",
    )
