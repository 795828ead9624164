from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.shortcuts import render
from django.views.decorators.http import require_GET

from apps.accounts.selectors import site_visible_or_404

from .models import AuditEntry


@login_required
@require_GET
def audit_log(request, slug: str):
    site = site_visible_or_404(request.user, slug)
    q = request.GET.get("q", "").strip()
    entries = AuditEntry.objects.filter(site=site).select_related("user")
    if q:
        entries = entries.filter(
            Q(object_repr__icontains=q)
            | Q(reason__icontains=q)
            | Q(action__icontains=q)
            | Q(user__username__icontains=q)
            | Q(object_type__icontains=q)
        )
    return render(
        request,
        "audit/log.html",
        {"site": site, "entries": entries[:500], "q": q},
    )
