from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone

from apps.sites.models import Site

from .choices import FaultKind


class SimulatedFault(models.Model):
    """A fault injected into a simulated site, active until it is cleared.

    This row is how ``manage.py simulate --fault`` (one process) tells the running
    simulator loop (another) about it: the loop reads the active faults on every tick. A
    backfill replays the recorded faults that fall inside its window.
    """

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="simulated_faults")
    kind = models.CharField(max_length=30, choices=FaultKind.choices)
    started_at = models.DateTimeField(default=timezone.now)
    cleared_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["site", "kind"],
                condition=Q(cleared_at__isnull=True),
                name="simulated_fault_one_active_per_kind",
                violation_error_message="This fault is already active at this site.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} at {self.site}"

    @property
    def is_active(self) -> bool:
        return self.cleared_at is None


class SimulatedSite(models.Model):
    """A site whose telemetry heatops' simulator writes (a demo site), not a real plant:
    drills inject their faults only into these."""

    site = models.OneToOneField(Site, on_delete=models.CASCADE, related_name="simulated")
    since = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "simulated site"

    def __str__(self) -> str:
        return f"{self.site} (simulated)"
