"""The site's maintenance page: windows, the log and work orders, with forms to add them.
Everyone who may see the site reads it; estates and site administrators change it."""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from apps.accounts.flash import flash_outcome
from apps.accounts.permissions import MAINTAIN, can
from apps.accounts.selectors import people_with_access, site_visible_or_404, sites_visible_to
from apps.alarms.models import Alarm
from apps.incidents.models import ActionItem

from . import services
from .choices import WORK_ORDER_NEXT, WindowState, WorkOrderState
from .forms import LogEntryForm, WindowForm, WorkOrderForm
from .models import MaintenanceWindow, WorkOrder
from .selectors import site_log, site_windows, site_work_orders

READ_ONLY = "Your role at this site can read maintenance but not change it."


def _may_change(request, site) -> None:
    if not can(request.user, MAINTAIN, site):
        raise PermissionDenied(READ_ONLY)


def _errors(form) -> str:
    return " ".join(
        f"{form.fields[k].label or k.replace('_', ' ')}: {' '.join(v)}" if k != "__all__" else " ".join(v)
        for k, v in form.errors.items()
    )


def _person(site, pk):
    return people_with_access(site).filter(pk=pk).first() if pk else None


def _page(request, site, **forms):
    now = timezone.now()
    windows = list(site_windows(site)[:50])
    orders = list(site_work_orders(site)[:200])
    for wo in orders:
        wo.next_states = [(s, label) for s, label in WorkOrderState.choices if s in WORK_ORDER_NEXT[wo.state]]
    alarm = None
    alarm_pk = request.GET.get("alarm", "")
    if alarm_pk.isdigit():
        alarm = Alarm.objects.filter(pk=alarm_pk, site=site).first()
    start = timezone.localtime(now).replace(second=0, microsecond=0)
    return render(
        request,
        "maintenance/site.html",
        {
            "site": site,
            "now": now,
            "windows": windows,
            "active": [
                w
                for w in windows
                if w.state in (WindowState.SCHEDULED, WindowState.ACTIVE)
                and w.starts_at <= now < w.planned_end
            ],
            "log": site_log(site)[:200],
            "work_orders": orders,
            "can_change": can(request.user, MAINTAIN, site),
            "window_form": forms.get("window_form")
            or WindowForm(
                site=site,
                initial={
                    "planned_start": start + timedelta(hours=1),
                    "planned_end": start + timedelta(hours=3),
                    "owner": request.user.pk,
                },
            ),
            "log_form": forms.get("log_form")
            or LogEntryForm(site=site, initial={"performed_at": start, "performed_by": request.user.pk}),
            "work_order_form": forms.get("work_order_form")
            or WorkOrderForm(
                site=site,
                initial={"alarm": alarm.pk if alarm else None, "title": alarm.title if alarm else ""},
            ),
            "alarm": alarm,
        },
    )


@login_required
@require_GET
def maintenance_page(request, slug: str):
    return _page(request, site_visible_or_404(request.user, slug))


def _done(request, site, fn, ok: str):
    flash_outcome(request, fn, ok)
    return redirect("maintenance:maintenance", slug=site.slug)


def _submit(request, slug: str, form_class, *, form_name: str, refused: str, change, ok: str):
    """What the three forms share: the site must be visible and the role allowed; a form
    that does not validate comes back with its errors; ``change(site, cleaned_data)``
    calls the service."""
    site = site_visible_or_404(request.user, slug)
    _may_change(request, site)
    form = form_class(request.POST, site=site)
    if not form.is_valid():
        messages.error(request, refused + _errors(form))
        return _page(request, site, **{form_name: form})
    return _done(request, site, lambda: change(site, form.cleaned_data), ok)


@login_required
@require_POST
def window_create(request, slug: str):
    return _submit(
        request,
        slug,
        WindowForm,
        form_name="window_form",
        refused="The window was not scheduled: ",
        change=lambda site, d: services.window_schedule(
            site=site,
            asset=d["asset"],
            reason=d["reason"],
            owner=_person(site, d["owner"]),
            planned_start=d["planned_start"],
            planned_end=d["planned_end"],
            user=request.user,
        ),
        ok="Maintenance window scheduled.",
    )


@login_required
@require_POST
def window_action(request, slug: str, pk: int, action: str):
    site = site_visible_or_404(request.user, slug)
    _may_change(request, site)
    window = MaintenanceWindow.objects.filter(pk=pk, site=site).first()
    if window is None:
        raise Http404("No such window")
    reason = request.POST.get("reason", "")
    if action == "start":
        fn, ok = (
            lambda: services.window_start_early(window=window, user=request.user, reason=reason),
            "Started.",
        )
    elif action == "end":
        fn, ok = lambda: services.window_end_early(window=window, user=request.user, reason=reason), "Ended."
    elif action == "cancel":
        fn, ok = lambda: services.window_cancel(window=window, user=request.user, reason=reason), "Cancelled."
    elif action == "extend":
        minutes = request.POST.get("minutes", "")
        if not minutes.isdigit() or not 1 <= int(minutes) <= 7 * 24 * 60:
            messages.error(request, "Extend by a number of minutes (up to 7 days).")
            return redirect("maintenance:maintenance", slug=site.slug)
        end = window.planned_end + timedelta(minutes=int(minutes))
        fn = lambda: services.window_extend(  # noqa: E731
            window=window, user=request.user, planned_end=end, reason=reason
        )
        ok = f"Extended to {timezone.localtime(end, window.local(end).tzinfo):%a %H:%M}."
    else:
        raise Http404("No such action")
    return _done(request, site, fn, ok)


@login_required
@require_POST
def log_entry_create(request, slug: str):
    return _submit(
        request,
        slug,
        LogEntryForm,
        form_name="log_form",
        refused="Nothing was logged: ",
        change=lambda site, d: services.log_entry_add(
            site=site,
            kind=d["kind"],
            asset=d["asset"],
            performed_by=_person(site, d["performed_by"]),
            performed_at=d["performed_at"],
            notes=d["notes"],
            readings=d["readings"],
            user=request.user,
        ),
        ok="Logged.",
    )


@login_required
@require_POST
def work_order_create(request, slug: str):
    return _submit(
        request,
        slug,
        WorkOrderForm,
        form_name="work_order_form",
        refused="No work order was opened: ",
        change=lambda site, d: services.work_order_create(
            site=site,
            title=d["title"],
            description=d["description"],
            asset=d["asset"],
            assignee=_person(site, d["assignee"]),
            due=d["due"],
            alarm=Alarm.objects.filter(pk=d["alarm"], site=site).first() if d["alarm"] else None,
            user=request.user,
        ),
        ok="Work order opened.",
    )


@login_required
@require_POST
def work_order_state(request, slug: str, pk: int):
    site = site_visible_or_404(request.user, slug)
    _may_change(request, site)
    wo = WorkOrder.objects.filter(pk=pk, site=site).first()
    if wo is None:
        raise Http404("No such work order")
    state = request.POST.get("state", "")
    return _done(
        request,
        site,
        lambda: services.work_order_set_state(
            work_order=wo, state=state, user=request.user, reason=request.POST.get("reason", "")
        ),
        f"{wo} is now {WorkOrderState(state).label.lower() if state in WorkOrderState.values else state}.",
    )


@login_required
@require_POST
def work_order_from_action_item(request, pk: int):
    item = (
        ActionItem.objects.filter(pk=pk, incident__site__in=sites_visible_to(request.user))
        .select_related("incident__site")
        .first()
    )
    if item is None:
        raise Http404("No such action item")
    _may_change(request, item.incident.site)
    flash_outcome(
        request,
        lambda: services.work_order_from_action_item(action_item=item, user=request.user),
        lambda wo: f"{wo} opened from the action item.",
    )
    return redirect("incidents:incident_detail", pk=item.incident_id)
