"""Writing a business case: the whole plan at once (its start, capex items and scenarios),
in a transaction under a lock on the case, with an audit entry holding the plan before and
after and the reason."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from apps.audit.services import audit_record
from apps.sites.models import Site

from .choices import SCENARIO_FIELDS, ScenarioKind
from .models import BusinessCase, CapexItem, Scenario


@dataclass(frozen=True)
class Capex:
    description: str
    amount: Decimal
    month: date


def _values(case: BusinessCase | None) -> dict | None:
    if case is None:
        return None
    return {
        "start": case.start.isoformat(),
        "avoided_fuel_in_cash_flow": case.avoided_fuel_in_cash_flow,
        "notes": case.notes,
        "capex": [
            {"description": c.description, "amount": str(c.amount), "month": c.month.isoformat()}
            for c in case.capex_items.order_by("month", "pk")
        ],
        "scenarios": {
            s.kind: {name: str(getattr(s, name)) for name in SCENARIO_FIELDS}
            for s in case.scenarios.order_by("kind")
        },
    }


@transaction.atomic
def business_case_save(
    *,
    site: Site,
    start: date,
    capex: list[Capex],
    scenarios: dict[str, dict],
    user,
    reason: str = "",
    notes: str = "",
    avoided_fuel_in_cash_flow: bool = False,
    now: datetime | None = None,
) -> BusinessCase:
    """Replace the site's plan. ``scenarios``: kind -> {field: value} for the fields of
    SCENARIO_FIELDS; a kind left out is removed."""
    now = now or timezone.now()
    unknown = set(scenarios) - set(ScenarioKind.values)
    if unknown:
        raise ValidationError(f"No such scenario: {', '.join(sorted(unknown))}.")
    if not scenarios:
        raise ValidationError("A business case needs at least one scenario.")
    Site.objects.select_for_update().filter(pk=site.pk).first()  # one edit of a site's case at a time
    case = BusinessCase.objects.filter(site=site).first()
    before = _values(case)
    if case is None:
        case = BusinessCase(site=site)
    case.start = start.replace(day=1)
    case.avoided_fuel_in_cash_flow = avoided_fuel_in_cash_flow
    case.notes = notes
    case.updated_by = user if user and user.is_authenticated else None
    case.full_clean(exclude=["site"])
    case.save()
    case.capex_items.all().delete()
    for item in capex:
        row = CapexItem(
            case=case,
            description=item.description.strip()[:200],
            amount=item.amount,
            month=item.month.replace(day=1),
        )
        row.full_clean()
        row.save()
    case.scenarios.exclude(kind__in=list(scenarios)).delete()
    for kind, values in scenarios.items():
        row = Scenario.objects.filter(case=case, kind=kind).first() or Scenario(case=case, kind=kind)
        for name in SCENARIO_FIELDS:
            if name in values:
                setattr(row, name, values[name])
        row.full_clean()
        row.save()
    audit_record(
        site=site,
        user=user,
        action="created business case" if before is None else "changed business case",
        obj=case,
        before=before,
        after=_values(case),
        reason=reason.strip(),
        at=now,
    )
    return case
