"""Who hears of an alarm, and how: email to the on-call people of the level concerned,
and a signed JSON POST to each webhook.

Webhook signature: ``X-Heatops-Signature: sha256=<hex>``, the HMAC-SHA256 with the
webhook's secret of ``<X-Heatops-Timestamp>.<raw body>``. A receiver recomputes it,
compares in constant time and refuses a timestamp more than 5 minutes away from its own
clock (``verify_signature``), and ignores a ``delivery`` id it has already seen: the id
(also in ``X-Heatops-Delivery``) is the same for every attempt at one notification.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from datetime import datetime

from django.conf import settings
from django.db.models import Q

from .models import Alarm, OnCall, Webhook


def sign(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


SIGNATURE_MAX_AGE_S = 300


def verify_signature(
    secret: str,
    timestamp: str,
    body: bytes,
    signature: str,
    *,
    now: float | None = None,
    max_age_s: int = SIGNATURE_MAX_AGE_S,
) -> bool:
    """What a receiver checks: the signature, in constant time, and that the timestamp is
    within ``max_age_s`` of its own clock (so a captured request cannot be replayed later)."""
    try:
        age = (time.time() if now is None else now) - int(timestamp)
    except ValueError:
        return False
    if abs(age) > max_age_s:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


_DELIVERY_NAMESPACE = uuid.UUID("6b0f7c5e-8a53-4c1e-9d2a-3f1e2d4c5b6a")


def delivery_id(alarm: Alarm, transition: str, level: int, webhook_id: int) -> str:
    """One id per notification of one webhook: every retry, and a task run twice, send
    the same one, so the receiver can drop repeats. A transition happens once per alarm
    (once per level for escalations), and the fire time tells alarms of reused ids apart."""
    name = f"alarm:{alarm.pk}:{alarm.fired_at.isoformat()}:{transition}:{level}:webhook:{webhook_id}"
    return str(uuid.uuid5(_DELIVERY_NAMESPACE, name))


def call_chain(alarm: Alarm, *, now: datetime) -> list[list]:
    """People to call at ``now``, level by level: the site's RACI for the alarm's area
    (Responsible, a rotation's being whoever is on call at ``now``, then Accountable); a
    site without RACI for it falls back to its on-call list. Only people with access to
    the site are called."""
    from apps.accounts.selectors import people_with_access
    from apps.ownership.services import escalation_chain

    chain = escalation_chain(alarm.site, alarm.domain, now=now)
    if chain:
        return chain
    levels: dict[int, list] = {}
    entries = OnCall.objects.filter(site=alarm.site, user__in=people_with_access(alarm.site))
    for entry in entries.select_related("user").order_by("level"):
        levels.setdefault(entry.level, []).append(entry.user)
    return [levels[k] for k in sorted(levels)]


def recipients(alarm: Alarm, transition: str, level: int, *, now: datetime) -> list[str]:
    """Fired or escalated: the people of that level at ``now`` (the last level again past
    the end of the chain). Acknowledged or resolved: everyone of the levels called so far,
    as the chain stands at ``now``, so nobody keeps at it."""
    chain = call_chain(alarm, now=now)
    if not chain:
        return []
    if transition in ("fired", "escalated"):
        people = chain[min(level, len(chain)) - 1]
    else:
        people = [u for group in chain[:level] for u in group]
    return sorted({u.email for u in people if u.email})


def alarm_data(alarm: Alarm) -> dict:
    """An alarm as JSON for webhooks and the REST API alike."""
    return {
        "id": alarm.pk,
        "site": alarm.site.slug,
        "site_name": alarm.site.name,
        "title": alarm.title,
        "message": alarm.message,
        "severity": alarm.severity,
        "domain": alarm.domain,
        "state": alarm.state,
        "value": alarm.value,
        "occurrences": alarm.occurrences,
        "fired_at": alarm.fired_at.isoformat(),
        "acknowledged_by": alarm.acknowledged_by.get_username() if alarm.acknowledged_by else None,
        "acknowledged_at": alarm.acknowledged_at.isoformat() if alarm.acknowledged_at else None,
        "escalation_level": alarm.escalation_level,
        "in_maintenance": alarm.in_maintenance,  # held by a maintenance window: recorded, not paged
        "url": f"{settings.HEATOPS_BASE_URL.rstrip('/')}/alarms/{alarm.pk}/",
    }


def payload(alarm: Alarm, transition: str, level: int, *, delivery: str | None = None) -> dict:
    data = {"event": f"alarm.{transition}", "alarm": {**alarm_data(alarm), "escalation_level": level}}
    if delivery:
        data["delivery"] = delivery  # in the signed body, so it cannot be changed on a replay
    return data


def body_of(data: dict) -> bytes:
    return json.dumps(data, sort_keys=True, separators=(",", ":")).encode()


def webhooks_for(alarm: Alarm):
    return Webhook.objects.filter(Q(site=alarm.site) | Q(site__isnull=True), is_active=True)
