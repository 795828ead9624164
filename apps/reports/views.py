from __future__ import annotations

import uuid

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from apps.accounts.permissions import PUBLISH_REPORTS, can
from apps.accounts.selectors import request_sites, site_visible_or_404, site_visible_to, sites_visible_to
from apps.telemetry.influx.errors import InfluxError

from . import presentation
from .choices import PublishState
from .formatting import mtta_short
from .models import ReportSnapshot
from .periods import month_period, parse_month, period_from_query
from .selectors import RANKINGS, default_month, portfolio_month, portfolio_totals, ranking, site_report
from .services import progress_get, progress_set
from .tasks import report_publish_task


def _month_or_404(value: str) -> tuple[int, int]:
    try:
        return parse_month(value)
    except ValueError as exc:
        raise Http404(str(exc)) from exc


def _csv_response(text: str, filename: str) -> HttpResponse:
    response = HttpResponse(text, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}.csv"'
    return response


def may_publish(user, site) -> bool:
    return can(user, PUBLISH_REPORTS, site)


@login_required
@require_GET
def portfolio(request):
    sites = request_sites(request)
    month = request.GET.get("month") or "{:04d}-{:02d}".format(*default_month(sites=sites))
    try:
        year, mon = parse_month(month)
    except ValueError as exc:
        return HttpResponseBadRequest(str(exc))
    rank_by = request.GET.get("rank", "erf")
    if rank_by not in RANKINGS:
        rank_by = "erf"
    rows, error = [], ""
    try:
        rows = portfolio_month(sites=sites, year=year, month=mon) if sites else []
    except InfluxError as exc:
        error = str(exc)
    for row in rows:
        row["display"] = {r["key"]: r for r in presentation.figure_rows(row)}
        row["mtta"] = mtta_short(row)
    ranked = ranking(rows, rank_by)
    for row in ranked:
        row["rank_value"] = row["display"][rank_by]["value"]
    totals = portfolio_totals(rows) if rows else None
    return render(
        request,
        "reports/portfolio.html",
        {
            "month": f"{year:04d}-{mon:02d}",
            "rows": rows,
            "ranked": ranked,
            "rank_by": rank_by,
            "rank_label": RANKINGS[rank_by][0],
            "rankings": [(k, v[0]) for k, v in RANKINGS.items()],
            "totals": totals,
            "totals_display": presentation.totals_display(totals) if totals else None,
            "error": error,
        },
        status=503 if error else 200,
    )


@login_required
@require_GET
def portfolio_csv(request, month: str):
    year, mon = _month_or_404(month)
    sites = request_sites(request)
    try:
        rows = portfolio_month(sites=sites, year=year, month=mon) if sites else []
    except InfluxError as exc:
        return HttpResponse(f"InfluxDB: {exc}", status=503, content_type="text/plain")
    return _csv_response(presentation.csv_text(rows), f"heatops-portfolio-{month}")


@login_required
@require_GET
def site_month(request, slug: str, month: str):
    site = site_visible_or_404(request.user, slug)
    year, mon = _month_or_404(month)
    period = month_period(site.timezone, year, mon)
    try:
        context = presentation.report_context(site_report(site=site, period=period))
    except InfluxError as exc:
        return render(
            request,
            "reports/site.html",
            {"site": site, "period": period, "error": str(exc)},
            status=503,
        )
    context.update(
        {
            "month": month,
            "snapshots": ReportSnapshot.objects.filter(
                site=site, period_start=period.start, period_end=period.end
            ).defer("pdf", "csv"),
            "may_publish": may_publish(request.user, site),
        }
    )
    return render(request, "reports/site.html", context)


@login_required
@require_GET
def site_month_csv(request, slug: str, month: str):
    site = site_visible_or_404(request.user, slug)
    year, mon = _month_or_404(month)
    try:
        report = site_report(site=site, period=month_period(site.timezone, year, mon), compare=False)
    except InfluxError as exc:
        return HttpResponse(f"InfluxDB: {exc}", status=503, content_type="text/plain")
    return _csv_response(presentation.csv_text([report.figures]), f"heatops-{site.slug}-{month}")


@login_required
@require_GET
def site_range_csv(request, slug: str):
    """Any range of whole local days: ?start=YYYY-MM-DD&end=YYYY-MM-DD (end excluded), or
    ?quarter=YYYY-Qn, ?year=YYYY."""
    site = site_visible_or_404(request.user, slug)
    try:
        period = period_from_query(request.GET, site.timezone)
    except ValueError as exc:
        return HttpResponseBadRequest(f"start and end are dates such as 2026-10-01, end after start ({exc})")
    try:
        report = site_report(site=site, period=period, compare=False)
    except InfluxError as exc:
        return HttpResponse(f"InfluxDB: {exc}", status=503, content_type="text/plain")
    return _csv_response(
        presentation.csv_text([report.figures]), f"heatops-{site.slug}-{period.start}-{period.end}"
    )


@login_required
@require_GET
def site_period(request, slug: str):
    """Any period of a site on one page: a quarter, a year or a range of days."""
    site = site_visible_or_404(request.user, slug)
    try:
        period = period_from_query(request.GET, site.timezone)
    except ValueError as exc:
        return HttpResponseBadRequest(
            f"Ask for quarter=2026-Q3, year=2026, or start and end dates such as 2026-10-01 ({exc})"
        )
    try:
        context = presentation.report_context(site_report(site=site, period=period))
    except InfluxError as exc:
        return render(
            request, "reports/period.html", {"site": site, "period": period, "error": str(exc)}, status=503
        )
    return render(request, "reports/period.html", context)


@login_required
@require_GET
def site_month_pdf(request, slug: str, month: str):
    from .services import report_pdf

    site = site_visible_or_404(request.user, slug)
    year, mon = _month_or_404(month)
    try:
        report = site_report(site=site, period=month_period(site.timezone, year, mon))
    except InfluxError as exc:
        return HttpResponse(f"InfluxDB: {exc}", status=503, content_type="text/plain")
    pdf = report_pdf(report)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="heatops-{site.slug}-{month}.pdf"'
    return response


@login_required
@require_GET
def snapshot_file(request, pk: int, kind: str):
    snapshot = ReportSnapshot.objects.filter(pk=pk, site__in=sites_visible_to(request.user)).first()
    if snapshot is None:
        raise Http404("No such report")
    if kind == "csv":
        return _csv_response(presentation.csv_safe(snapshot.csv), snapshot.filename)
    response = HttpResponse(bytes(snapshot.pdf), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{snapshot.filename}.pdf"'
    return response


@login_required
@require_POST
def publish(request, slug: str, month: str):
    """Enqueue publishing (compute, print, save a new version, email) and answer with the
    progress fragment, which polls until the job is done."""
    site = site_visible_or_404(request.user, slug)
    _month_or_404(month)
    if not may_publish(request.user, site):
        return HttpResponse("You may not publish reports.", status=403)
    job = uuid.uuid4().hex
    progress_set(job, PublishState.QUEUED, site=site.slug, month=month)
    report_publish_task.delay(site.pk, month, request.user.pk, job)
    return _progress(request, job)


@login_required
@require_GET
def publish_progress(request, job: str):
    return _progress(request, job)


def _progress(request, job: str):
    state = progress_get(job)
    if state is None or site_visible_to(request.user, state.get("site", "")) is None:
        raise Http404("No such job")
    snapshot_url = None
    if state.get("snapshot"):
        snapshot_url = reverse("reports:snapshot_file", args=[state["snapshot"], "pdf"])
    return render(
        request,
        "reports/_progress.html",
        {
            "job": job,
            "state": state,
            "label": PublishState(state["state"]).label,
            "finished": state["state"] in (PublishState.DONE, PublishState.FAILED),
            "snapshot_url": snapshot_url,
        },
    )
