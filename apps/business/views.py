"""The business-case page (the plan against the measured months, cash flow and payback),
its CSV, and the plan's form. Everyone who may see the site reads it; managers and site
administrators change the plan."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from apps.accounts.permissions import EDIT_BUSINESS_CASE, can
from apps.accounts.selectors import site_visible_or_404
from apps.reports.periods import local_today
from apps.telemetry.influx.errors import InfluxError

from . import presentation
from .choices import ScenarioKind
from .forms import BusinessCaseForm
from .selectors import business_case_of, case_against_reality
from .services import business_case_save

READ_ONLY = "Your role at this site reads the business case; managers and site administrators change it."


def _page(request, site, form=None, status=200):
    now = timezone.now()
    case = business_case_of(site)
    view, error = None, ""
    if case is not None:
        try:
            view = case_against_reality(case, now=now)
        except InfluxError as exc:
            error = str(exc)
    may_edit = can(request.user, EDIT_BUSINESS_CASE, site)
    return render(
        request,
        "business/case.html",
        {
            "site": site,
            "case": case,
            "view": view,
            "error": error,
            "rows": presentation.month_rows(view) if view else [],
            "paybacks": presentation.paybacks(view) if view else [],
            "chart": presentation.chart_data(view, today=local_today(site.timezone, now)) if view else None,
            "scenarios": sorted(case.scenarios.all(), key=lambda s: ScenarioKind.values.index(s.kind))
            if case
            else [],
            "capex": list(case.capex_items.all()) if case else [],
            "may_edit": may_edit,
            "form": form
            or (BusinessCaseForm(initial=BusinessCaseForm.initial_for(case)) if may_edit else None),
        },
        status=status,
    )


@login_required
@require_GET
def business_case_page(request, slug: str):
    return _page(request, site_visible_or_404(request.user, slug))


@login_required
@require_POST
def business_case_edit(request, slug: str):
    site = site_visible_or_404(request.user, slug)
    if not can(request.user, EDIT_BUSINESS_CASE, site):
        raise PermissionDenied(READ_ONLY)
    form = BusinessCaseForm(request.POST)
    if not form.is_valid():
        messages.error(request, "The plan was not saved: correct the fields marked below.")
        return _page(request, site, form=form, status=400)
    d = form.cleaned_data
    try:
        business_case_save(
            site=site,
            start=d["start"],
            capex=d["capex"],
            scenarios=form.scenarios(),
            notes=d["notes"],
            avoided_fuel_in_cash_flow=d["avoided_fuel_in_cash_flow"],
            reason=d["reason"],
            user=request.user,
        )
    except ValidationError as exc:
        messages.error(request, "The plan was not saved: " + " ".join(exc.messages))
        return _page(request, site, form=form, status=400)
    messages.success(request, "Business case saved.")
    return redirect("business:business_case", slug=site.slug)


@login_required
@require_GET
def business_case_csv(request, slug: str):
    site = site_visible_or_404(request.user, slug)
    case = business_case_of(site)
    if case is None:
        raise Http404("No business case for this site")
    text = presentation.csv_text(case_against_reality(case, now=timezone.now()))
    response = HttpResponse(text, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{site.slug}-business-case.csv"'
    return response
