from __future__ import annotations

from django.conf import settings
from django.db import models

from apps.alarms.models import Alarm
from apps.runbooks.choices import PriorityClass
from apps.runbooks.models import RunbookVersion
from apps.sites.models import Site

from .choices import IncidentState, TimelineKind


class Incident(models.Model):
    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="incidents")
    title = models.CharField(max_length=200)
    priority_class = models.CharField(max_length=10, choices=PriorityClass.choices)
    impact = models.TextField(blank=True, help_text="For example: heat not delivered, compute degraded.")
    state = models.CharField(max_length=10, choices=IncidentState.choices, default=IncidentState.OPEN)
    opened_at = models.DateTimeField()
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    mitigated_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    alarms = models.ManyToManyField(Alarm, related_name="incidents", blank=True)
    runbooks = models.ManyToManyField(RunbookVersion, related_name="incidents", blank=True)
    # post-incident review
    cause = models.TextField(blank=True)
    reviewed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-opened_at"]

    def __str__(self) -> str:
        return f"#{self.pk} {self.title}"


class TimelineEvent(models.Model):
    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="timeline")
    at = models.DateTimeField()
    kind = models.CharField(max_length=10, choices=TimelineKind.choices)
    text = models.TextField()
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    alarm = models.ForeignKey(Alarm, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.get_kind_display()}: {self.text[:60]}"


class StepDone(models.Model):
    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="steps_done")
    version = models.ForeignKey(RunbookVersion, on_delete=models.CASCADE, related_name="+")
    index = models.PositiveIntegerField()
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    done_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["incident", "version", "index"], name="step_done_once")
        ]

    def __str__(self) -> str:
        return f"{self.version} step {self.index + 1}"


class ActionItem(models.Model):
    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="action_items")
    text = models.CharField(max_length=300)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    due = models.DateField()
    done = models.BooleanField(default=False)

    def __str__(self) -> str:
        return self.text
