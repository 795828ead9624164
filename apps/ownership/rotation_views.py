"""On-call pages: the rotations one may see, a rotation's schedule and overrides, its
iCalendar export (with the session, or by a person's secret feed address for calendar
apps), and issuing and revoking that address."""

from __future__ import annotations

import logging
import zoneinfo
from datetime import datetime, timedelta

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse, HttpResponseNotFound
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from apps.accounts.selectors import sites_visible_to
from apps.audit.models import AuditEntry

from . import rotations as svc
from .calendar import calendar
from .models import CalendarFeed, Rotation
from .selectors import may_change_rotation, rotation_visible_to, rotations_visible_to

SCHEDULE_WEEKS = 8
log = logging.getLogger(__name__)


def _rotation_or_404(user, pk: int) -> Rotation:
    rotation = rotation_visible_to(user, pk)
    if rotation is None:
        raise Http404("No such rotation")
    return rotation


def _list_page(request, *, raw: str | None = None):
    """The rotations one may see, each with who is on call now and next; ``raw``: a feed
    token just issued, shown this once as each rotation's feed address (never stored)."""
    now = timezone.now()
    rows = []
    for rotation in rotations_visible_to(request.user):
        current, upcoming = svc.now_and_next(rotation, now)
        url = (
            request.build_absolute_uri(reverse("ownership:rotation_feed", args=[rotation.pk, raw]))
            if raw
            else ""
        )
        rows.append({"rotation": rotation, "now": current, "next": upcoming, "feed_url": url})
    return render(
        request,
        "ownership/rotations.html",
        {
            "rows": rows,
            "feed": CalendarFeed.objects.filter(user=request.user, revoked_at=None).first(),
            "issued": bool(raw),
        },
    )


@login_required
@require_GET
def rotation_list(request):
    return _list_page(request)


@login_required
@require_GET
def rotation_detail(request, pk: int):
    rotation = _rotation_or_404(request.user, pk)
    now = timezone.now()
    current, upcoming = svc.now_and_next(rotation, now)
    shifts = svc.timeline(rotation, now, now + timedelta(weeks=SCHEDULE_WEEKS))
    history = AuditEntry.objects.filter(object_type="rotation", object_id=str(rotation.pk)).select_related(
        "user"
    )
    return render(
        request,
        "ownership/rotation.html",
        {
            "rotation": rotation,
            "now": current,
            "next": upcoming,
            "shifts": shifts,
            "overrides": rotation.overrides.filter(ends_at__gt=now).select_related("user", "created_by"),
            "members": rotation.members_in_order,
            "people": _override_people(rotation),
            "can_change": may_change_rotation(request.user, rotation),
            "history": history[:50],
            "sites_using": svc.rotation_sites(rotation).filter(pk__in=sites_visible_to(request.user)),
            "weeks": SCHEDULE_WEEKS,
        },
    )


def _override_people(rotation: Rotation) -> list:
    users = {u.pk: u for u in rotation.members_in_order}
    users.update({u.pk: u for u in rotation.team.members.filter(is_active=True)})
    return sorted(users.values(), key=lambda u: u.get_username())


def _local_input(rotation: Rotation, value: str) -> datetime:
    """A datetime-local form value, read in the rotation's time zone."""
    try:
        naive = datetime.fromisoformat(value)
    except ValueError as exc:
        raise ValidationError("Give a start and an end (date and time).") from exc
    return naive.replace(tzinfo=zoneinfo.ZoneInfo(rotation.timezone))


@login_required
@require_POST
def override_add(request, pk: int):
    rotation = _rotation_or_404(request.user, pk)
    if not may_change_rotation(request.user, rotation):
        raise PermissionDenied(
            "Only the rotation's members and its sites' administrators change who is on call."
        )
    person = get_user_model().objects.filter(pk=request.POST.get("user") or 0).first()
    try:
        svc.override_add(
            rotation=rotation,
            user=person,
            starts_at=_local_input(rotation, request.POST.get("starts_at", "")),
            ends_at=_local_input(rotation, request.POST.get("ends_at", "")),
            reason=request.POST.get("reason", ""),
            by=request.user,
            now=timezone.now(),
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request, f"{person.get_full_name() or person.get_username()} is on call instead, as asked."
        )
    return redirect("ownership:rotation", pk=rotation.pk)


@login_required
@require_POST
def override_remove(request, pk: int, override: int):
    rotation = _rotation_or_404(request.user, pk)
    if not may_change_rotation(request.user, rotation):
        raise PermissionDenied(
            "Only the rotation's members and its sites' administrators change who is on call."
        )
    found = rotation.overrides.filter(pk=override).first()
    if found is None:
        raise Http404("No such override")
    try:
        svc.override_remove(
            override=found, by=request.user, reason=request.POST.get("reason", ""), now=timezone.now()
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, "Override removed: the rota's person is on call again.")
    return redirect("ownership:rotation", pk=rotation.pk)


def _ics(request, rotation: Rotation) -> HttpResponse:
    body = calendar(
        [rotation], now=timezone.now(), host=request.get_host().split(":")[0], name=f"On call: {rotation}"
    )
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'inline; filename="on-call-{rotation.pk}.ics"'
    response["Cache-Control"] = "private, max-age=300"
    return response


@login_required
@require_GET
def rotation_ics(request, pk: int):
    return _ics(request, _rotation_or_404(request.user, pk))


@require_GET
def rotation_feed(request, pk: int, token: str):
    """For calendar apps, which send no cookie or header: the token in the address is the
    credential. Unknown, revoked, or a rotation its person may not see: 404, alike."""
    user = svc.calendar_feed_user(raw=token, now=timezone.now())
    rotation = rotation_visible_to(user, pk) if user else None
    if rotation is None:
        log.warning("calendar feed of rotation %s: unknown or revoked address, or not its person's", pk)
        response = HttpResponseNotFound("No such calendar.", content_type="text/plain")
        response._has_been_logged = True  # Django's request log would write the path, and so the token
        return response
    return _ics(request, rotation)


@login_required
@require_POST
def feed_issue(request):
    """Answered with the page itself, not a redirect: the new addresses are shown once, in
    this answer only."""
    _, raw = svc.calendar_feed_issue(user=request.user, now=timezone.now())
    messages.success(request, "New calendar address made; any earlier one no longer works.")
    response = _list_page(request, raw=raw)
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def feed_revoke(request):
    count = svc.calendar_feed_revoke(user=request.user, now=timezone.now())
    messages.success(request, "Calendar address revoked." if count else "You had no calendar address.")
    return redirect("ownership:rotations")
