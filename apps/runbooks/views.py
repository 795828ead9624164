from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.views.decorators.http import require_GET

from .models import Runbook


@login_required
@require_GET
def runbook_list(request):
    return render(
        request,
        "runbooks/list.html",
        {"runbooks": Runbook.objects.prefetch_related("versions")},
    )


@login_required
@require_GET
def runbook_detail(request, pk: int):
    runbook = Runbook.objects.filter(pk=pk).prefetch_related("versions__created_by").first()
    if runbook is None:
        raise Http404("No such runbook")
    versions = sorted(runbook.versions.all(), key=lambda v: -v.number)
    return render(
        request,
        "runbooks/detail.html",
        {
            "runbook": runbook,
            "current": versions[0] if versions else None,
            "versions": versions,
        },
    )
