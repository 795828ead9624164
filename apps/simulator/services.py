"""Writes: inject and clear the simulator's faults. The live runner is in ``live``, the
backfill engine in ``backfill``.
"""

from __future__ import annotations

from datetime import UTC, datetime

from django.db import transaction
from django.utils import timezone

from apps.sites.models import Site

from .choices import FaultKind
from .exceptions import FaultAlreadyActive, FaultNotActive, SimulatorError
from .models import SimulatedFault, SimulatedSite


def fault_start(*, site: Site, kind: FaultKind | str, at: datetime | None = None) -> SimulatedFault:
    """Inject a fault at a site; the running simulator picks it up on its next tick."""
    kind = FaultKind(kind)
    with transaction.atomic():
        Site.objects.select_for_update().get(pk=site.pk)  # one injector at a time per site
        active = SimulatedFault.objects.filter(site=site, kind=kind, cleared_at__isnull=True).first()
        if active is not None:
            raise FaultAlreadyActive(
                f"{kind.value} is already active at {site.slug} (since {_when(active.started_at)})"
            )
        return SimulatedFault.objects.create(site=site, kind=kind, started_at=at or timezone.now())


def fault_clear(*, site: Site, kind: FaultKind | str, at: datetime | None = None) -> SimulatedFault:
    """End an active fault; the plant then recovers with its own inertia."""
    kind = FaultKind(kind)
    with transaction.atomic():
        fault = (
            SimulatedFault.objects.select_for_update()
            .filter(site=site, kind=kind, cleared_at__isnull=True)
            .first()
        )
        if fault is None:
            raise FaultNotActive(f"{kind.value} is not active at {site.slug}")
        cleared_at = at or timezone.now()
        if cleared_at < fault.started_at:
            raise SimulatorError(f"a fault cannot clear ({_when(cleared_at)}) before it started")
        fault.cleared_at = cleared_at
        fault.save(update_fields=["cleared_at"])
        return fault


def _when(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")



def site_mark_simulated(*, site: Site) -> SimulatedSite:
    """Mark ``site`` as one whose telemetry the simulator writes (safe to repeat)."""
    return SimulatedSite.objects.get_or_create(site=site)[0]


def faults_clear_all(*, site: Site, kinds, at: datetime | None = None) -> list[SimulatedFault]:
    """Clear every active fault of ``kinds`` at ``site`` (those not active are left): the
    simulator's normal state again."""
    cleared = []
    for kind in kinds:
        try:
            cleared.append(fault_clear(site=site, kind=kind, at=at))
        except FaultNotActive:
            continue
    return cleared
