"""Planned maintenance windows, the maintenance log, and work orders."""

from __future__ import annotations

import zoneinfo
from datetime import datetime

from django.conf import settings
from django.db import models
from django.utils import timezone

from apps.alarms.models import Alarm
from apps.assets.models import Asset
from apps.incidents.models import ActionItem, Incident
from apps.sites.models import Site

from .choices import LogKind, WindowState, WorkOrderState


def person(user) -> str:
    return (user.get_full_name() or user.get_username()) if user else "nobody"


class MaintenanceWindow(models.Model):
    """Planned work on a site or one of its assets. While it covers an asset, that asset's
    alarms are raised and recorded but marked "in maintenance": they neither page nor
    escalate until the window ends (apps/maintenance/receivers.py)."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="maintenance_windows")
    asset = models.ForeignKey(
        Asset,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="maintenance_windows",
        help_text="Blank: the whole site.",
    )
    reason = models.CharField(max_length=200, help_text="What is done, e.g. pump service.")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    planned_start = models.DateTimeField()
    planned_end = models.DateTimeField(help_text="Extending the window moves this.")
    actual_start = models.DateTimeField(null=True, blank=True)
    actual_end = models.DateTimeField(null=True, blank=True)
    state = models.CharField(
        max_length=10, choices=WindowState.choices, default=WindowState.SCHEDULED, db_index=True
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    alarms = models.ManyToManyField(
        Alarm,
        related_name="maintenance_windows",
        blank=True,
        help_text="The alarms raised while this window covered them.",
    )

    class Meta:
        ordering = ["-planned_start"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(planned_end__gt=models.F("planned_start")), name="window_ends_after_start"
            )
        ]

    def __str__(self) -> str:
        scope = self.asset.name if self.asset_id else "whole site"
        return f"{self.site.slug}: {self.reason} ({scope})"

    @property
    def starts_at(self) -> datetime:
        return self.actual_start or self.planned_start

    @property
    def ends_at(self) -> datetime:
        return self.actual_end or self.planned_end

    @property
    def scope(self) -> str:
        return self.asset.name if self.asset_id else "the whole site"

    def local(self, when: datetime) -> datetime:
        return timezone.localtime(when, zoneinfo.ZoneInfo(self.site.timezone))

    def banner(self, at: datetime | None = None) -> str:
        """What the dashboards say: "In maintenance until 15:00: pump service (Eve)"."""
        end = self.local(self.planned_end)
        same_day = at is None or self.local(at).date() == end.date()
        until = f"{end:%H:%M}" if same_day else f"{end:%a %d %b %H:%M}"
        what = self.reason + ("" if not self.asset_id else f", {self.asset.name}")
        return f"In maintenance until {until}: {what} ({person(self.owner)})"


class LogEntry(models.Model):
    """What estates staff did at a site or to one asset, with optional readings."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="maintenance_log")
    asset = models.ForeignKey(
        Asset, null=True, blank=True, on_delete=models.SET_NULL, related_name="maintenance_log"
    )
    kind = models.CharField(max_length=20, choices=LogKind.choices)
    performed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    performed_at = models.DateTimeField()
    notes = models.TextField(blank=True)
    readings = models.JSONField(
        default=dict, blank=True, help_text='Optional readings, e.g. {"pH": 7.4, "free chlorine mg/l": 1.2}.'
    )
    work_order = models.ForeignKey(
        "WorkOrder", null=True, blank=True, on_delete=models.SET_NULL, related_name="log_entries"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-performed_at", "-pk"]
        verbose_name = "maintenance log entry"
        verbose_name_plural = "maintenance log"

    def __str__(self) -> str:
        return f"{self.site.slug}: {self.get_kind_display()} {self.performed_at:%Y-%m-%d}"


class WorkOrder(models.Model):
    """Work to be done, with its state, assignee (from RACI's maintenance area), due date
    and what caused it (an alarm, an incident, an incident review's action item)."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="work_orders")
    asset = models.ForeignKey(
        Asset, null=True, blank=True, on_delete=models.SET_NULL, related_name="work_orders"
    )
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    state = models.CharField(
        max_length=12, choices=WorkOrderState.choices, default=WorkOrderState.OPEN, db_index=True
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    due = models.DateField(null=True, blank=True)
    alarm = models.ForeignKey(
        Alarm, null=True, blank=True, on_delete=models.SET_NULL, related_name="work_orders"
    )
    incident = models.ForeignKey(
        Incident, null=True, blank=True, on_delete=models.SET_NULL, related_name="work_orders"
    )
    action_item = models.OneToOneField(
        ActionItem, null=True, blank=True, on_delete=models.SET_NULL, related_name="work_order"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField(auto_now=True)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due", "-created_at"]

    def __str__(self) -> str:
        return f"WO-{self.pk}: {self.title}"

    @property
    def is_open(self) -> bool:
        return self.state in (WorkOrderState.OPEN, WorkOrderState.SCHEDULED, WorkOrderState.IN_PROGRESS)
