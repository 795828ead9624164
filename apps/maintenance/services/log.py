"""The maintenance log: what was done, by whom, when, with its readings."""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from apps.assets.models import Asset
from apps.audit.services import audit_record
from apps.sites.models import Site

from ..choices import LogKind
from ..models import LogEntry, WorkOrder
from .checks import check_asset, check_person, check_same_site, creator


def _parse_readings(readings) -> dict[str, float]:
    if isinstance(readings, dict):
        items = readings.items()
    else:  # "name = value" per line, as the form sends them
        items = []
        for i, line in enumerate(str(readings or "").splitlines(), start=1):
            if not line.strip():
                continue
            name, sep, value = line.partition("=")
            if not sep:
                raise ValidationError(f"Reading {i}: write it as name = number (e.g. pH = 7.4).")
            items.append((name, value))
    out = {}
    for name, value in items:
        name = str(name).strip()
        try:
            number = float(str(value).strip().replace(",", "."))
        except ValueError:
            raise ValidationError(f"Reading {name!r}: {str(value).strip()!r} is not a number.") from None
        if not name:
            raise ValidationError("Each reading needs its name.")
        out[name[:60]] = number
    return out


@transaction.atomic
def log_entry_add(
    *,
    site: Site,
    kind: str,
    performed_by,
    performed_at: datetime,
    user,
    notes: str = "",
    asset: Asset | None = None,
    readings: dict | str | None = None,
    work_order: WorkOrder | None = None,
    now: datetime | None = None,
) -> LogEntry:
    """Record what was done. Readings: a dict, or "name = value" lines."""
    now = now or timezone.now()
    if kind not in LogKind.values:
        raise ValidationError("Choose what kind of work it was.")
    check_asset(site, asset)
    check_person(site, performed_by, "person who did it")
    if performed_at > now:
        raise ValidationError("The log records work done: its time cannot be in the future.")
    check_same_site(site, work_order, "work order")
    values = _parse_readings(readings)
    if not notes.strip() and not values:
        raise ValidationError("Write what was done (notes), or give a reading.")
    entry = LogEntry.objects.create(
        site=site,
        asset=asset,
        kind=kind,
        performed_by=performed_by,
        performed_at=performed_at,
        notes=notes.strip(),
        readings=values,
        work_order=work_order,
        created_by=creator(user),
    )
    audit_record(
        site=site,
        user=user,
        action="logged maintenance",
        obj=entry,
        after={
            "kind": kind,
            "asset": asset.slug if asset else None,
            "performed_by": performed_by.get_username(),
            "performed_at": performed_at.isoformat(),
            "notes": entry.notes,
            "readings": values,
        },
        at=now,
    )
    return entry
