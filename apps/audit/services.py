from __future__ import annotations

import json

from django.core.serializers.json import DjangoJSONEncoder
from django.forms.models import model_to_dict
from django.utils import timezone

from .models import AuditEntry


def snapshot(obj) -> dict | None:
    """A model instance as plain JSON values, for before/after."""
    if obj is None:
        return None
    return json.loads(json.dumps(model_to_dict(obj), cls=DjangoJSONEncoder, default=str))


def audit_record(
    *,
    site,
    user,
    action: str,
    obj,
    before: dict | None = None,
    after: dict | None = None,
    reason: str = "",
    at=None,
) -> AuditEntry:
    return AuditEntry.objects.create(
        site=site,
        user=user if user and user.is_authenticated else None,
        at=at or timezone.now(),
        action=action,
        object_type=obj._meta.verbose_name if hasattr(obj, "_meta") else type(obj).__name__,
        object_id=str(getattr(obj, "pk", "") or ""),
        object_repr=str(obj)[:200],
        before=before,
        after=after,
        reason=reason,
    )
