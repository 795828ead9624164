from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from apps.accounts.permissions import ACT_ON_ALARMS, can, role_at
from apps.accounts.services import PREFIX as PERSONAL_TOKEN_PREFIX
from apps.accounts.services import personal_token_user
from apps.ownership.selectors import on_call_for
from heatops.tokens import token_well_formed

from . import openapi, services
from .choices import AlarmState, Domain, Severity
from .notify import alarm_data
from .selectors import SORTS, alarm_list, alarms_visible_to, with_accountable


def _alarm_or_404(user, pk: int):
    alarm = alarms_visible_to(user).filter(pk=pk).first()
    if alarm is None:
        raise Http404("No such alarm")
    return alarm


def _may_act(request, alarm) -> bool:
    return can(request.user, ACT_ON_ALARMS, alarm.site)


def _refused(request, alarm):
    role = role_at(request.user, alarm.site)
    message = f"Your role ({role or 'none'}) at {alarm.site.name} can read alarms but not change them."
    if request.htmx:
        return _answer(request, alarm, message, ok=False)
    raise PermissionDenied(message)


def _back(request):
    """Back where the form said (``next``), if that is a page of this site; else the list."""
    target = request.POST.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(target)
    return redirect("alarms:alarm_list")


def _note(request) -> str:
    return (request.POST.get("note") or request.headers.get("HX-Prompt") or "").strip()


def _answer(request, alarm, message: str, ok: bool):
    """htmx: a message for #toast (the buttons target it, so the answer lands even if the
    button was re-rendered meanwhile) and the updated alarm out of band. Otherwise: back,
    with the message."""
    if request.htmx:
        html = render_to_string("alarms/_toast.html", {"message": message, "ok": ok})
        if alarm is not None:
            alarm.refresh_from_db()
            html += services.render_alarm(alarm)
        return HttpResponse(html)  # 200 either way: htmx swaps nothing on a 4xx, the toast says it failed
    (messages.success if ok else messages.error)(request, message)
    return _back(request)


@login_required
@require_GET
def alarm_list_view(request):
    params = {
        k: request.GET.get(k, "") for k in ("site", "severity", "domain", "state", "sort", "maintenance")
    }
    params["state"] = params["state"] if "state" in request.GET else "open"
    params["sort"] = params["sort"] or "severity"
    alarms = with_accountable(alarm_list(user=request.user, **params)[:500])
    return render(
        request,
        "alarms/list.html",
        {
            "alarms": alarms,
            "params": params,
            "severities": Severity.choices,
            "domains": Domain.choices,
            "states": AlarmState.choices,
            "sorts": list(SORTS),
            "ws_query": "&".join(f"{k}={v}" for k, v in params.items() if v and k != "sort"),
        },
    )


@login_required
@require_GET
def alarm_detail(request, pk: int):
    alarm = _alarm_or_404(request.user, pk)
    return render(
        request,
        "alarms/detail.html",
        {
            "alarm": with_accountable([alarm])[0],
            "events": alarm.events.select_related("user"),
            "on_call": on_call_for(alarm.site, alarm.domain, now=timezone.now()),
        },
    )


def _person_acts(request, pk: int, change, done: str):
    """What the three alarm buttons share: the alarm must be visible and the role allowed;
    ``change(alarm)`` calls the service; a conflict or bad input is told, not raised."""
    alarm = _alarm_or_404(request.user, pk)
    if not _may_act(request, alarm):
        return _refused(request, alarm)
    try:
        change(alarm)
    except services.AlarmConflict as exc:
        return _answer(request, alarm, str(exc), ok=False)
    except ValueError:
        return _answer(request, alarm, "Minutes must be a whole number.", ok=False)
    return _answer(request, alarm, done.format(title=alarm.title), ok=True)


@login_required
@require_POST
def alarm_ack(request, pk: int):
    return _person_acts(
        request,
        pk,
        lambda a: services.alarm_acknowledge(alarm=a, user=request.user, note=_note(request)),
        "Acknowledged: {title}.",
    )


@login_required
@require_POST
def alarm_resolve(request, pk: int):
    return _person_acts(
        request,
        pk,
        lambda a: services.alarm_resolve(alarm=a, user=request.user, note=_note(request)),
        "Resolved: {title}.",
    )


@login_required
@require_POST
def alarm_shelve(request, pk: int):
    minutes = request.POST.get("minutes", "60")
    return _person_acts(
        request,
        pk,
        lambda a: services.alarm_shelve(
            alarm=a, user=request.user, minutes=int(minutes), reason=_note(request)
        ),
        f"Shelved for {minutes} min: {{title}}.",
    )


@login_required
@require_POST
def alarm_bulk(request):
    action = request.POST.get("action")
    ids = [int(i) for i in request.POST.getlist("ids") if i.isdigit()]
    alarms = [a for a in alarms_visible_to(request.user).filter(pk__in=ids) if _may_act(request, a)]
    if action not in {"ack", "resolve"} or not alarms:
        messages.error(request, "Choose at least one alarm and an action.")
        return _back(request)
    done, refused = 0, []
    for alarm in alarms:
        try:
            if action == "ack" and alarm.state == AlarmState.SHELVED:
                # someone shelved it on purpose: a bulk acknowledgement must not undo that unseen
                refused.append(
                    f"{alarm.title}: left shelved (acknowledge it on its own to end the shelving)."
                )
                continue
            if action == "ack":
                services.alarm_acknowledge(alarm=alarm, user=request.user, note=_note(request))
            else:
                services.alarm_resolve(alarm=alarm, user=request.user, note=_note(request))
            done += 1
        except services.AlarmConflict as exc:
            refused.append(f"{alarm.title}: {exc}")
    verb = "Acknowledged" if action == "ack" else "Resolved"
    messages.success(request, f"{verb} {done} alarm(s).") if done else None
    for line in refused:
        messages.warning(request, line)
    return _back(request)


# --- REST API for scripts and chat bots (personal token) --------------------------------


class _ApiRefused(Exception):
    """Why a request's credentials were refused (answered 401 with this reason)."""


def _api_user(request):
    """The person behind ``Authorization: Token|Bearer <personal token>``. Anything else,
    missing, malformed (another scheme, no token, a NUL, non-ASCII, a huge value) or an
    unknown token, raises _ApiRefused with the reason: a 401, never a 500."""
    header = request.headers.get("Authorization", "")
    if not header.strip():
        raise _ApiRefused("no Authorization header: send 'Authorization: Token <your personal API token>'")
    scheme, _, raw = header.strip().partition(" ")
    if scheme.lower() not in {"token", "bearer"}:
        raise _ApiRefused(
            "the Authorization header must be 'Token <your personal API token>' (or 'Bearer <token>')"
        )
    raw = raw.strip()
    if not token_well_formed(raw, PERSONAL_TOKEN_PREFIX):
        raise _ApiRefused(
            "the Authorization header holds no well-formed personal API token: "
            "send 'Authorization: Token <your personal API token>'"
        )
    user = personal_token_user(raw=raw)
    if user is None:
        raise _ApiRefused("the token is unknown or revoked, or its account is inactive")
    return user


def _api_denied(reason: str):
    response = JsonResponse({"error": reason}, status=401)
    response["WWW-Authenticate"] = 'Token realm="heatops api"'
    return response


@csrf_exempt
@require_GET
def api_openapi(request):
    """The API's OpenAPI document: for a token, as the API is, or for a logged-in person
    reading it in the browser."""
    if not (request.user.is_authenticated and request.user.is_active):
        try:
            _api_user(request)
        except _ApiRefused as refused:
            return _api_denied(str(refused))
    return JsonResponse(openapi.document(), json_dumps_params={"indent": 1})


@csrf_exempt
@require_GET
def api_alarm_list(request):
    try:
        user = _api_user(request)
    except _ApiRefused as refused:
        return _api_denied(str(refused))
    state = request.GET.get("state", "open")
    alarms = alarm_list(
        user=user,
        site=request.GET.get("site", ""),
        state=state,
        maintenance=request.GET.get("maintenance", ""),
    )[:500]
    return JsonResponse({"alarms": [alarm_data(a) for a in alarms]})


@csrf_exempt
@require_POST
def api_alarm_ack(request, pk: int):
    try:
        user = _api_user(request)
    except _ApiRefused as refused:
        return _api_denied(str(refused))
    alarm = alarms_visible_to(user).filter(pk=pk).first()
    if alarm is None:
        return JsonResponse({"error": f"no alarm {pk} that you may see"}, status=404)
    if not can(user, ACT_ON_ALARMS, alarm.site):
        return JsonResponse(
            {"error": f"your role at {alarm.site.slug} may read alarms but not change them"}, status=403
        )
    try:
        note = json.loads(request.body or b"{}").get("note", "")
    except (ValueError, AttributeError):
        return JsonResponse({"error": 'the body must be JSON such as {"note": "on it"}'}, status=400)
    try:
        alarm = services.alarm_acknowledge(alarm=alarm, user=user, note=str(note))
    except services.AlarmConflict as exc:
        return JsonResponse({"error": str(exc)}, status=409)
    return JsonResponse({"alarm": alarm_data(alarm)})
