"""Runbooks: the scenarios operators face, each with its safe state and steps."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from apps.ownership.choices import Raci

from .choices import PriorityClass


class Runbook(models.Model):
    """A scenario operators face, with its safe state and steps; every edit is a new version."""

    slug = models.SlugField(unique=True)
    title = models.CharField(max_length=120)
    priority_class = models.CharField(max_length=10, choices=PriorityClass.choices)

    class Meta:
        ordering = ["title"]
        db_table = "incidents_runbook"  # made by the incidents app, where runbooks began

    def __str__(self) -> str:
        return self.title

    @property
    def current(self) -> RunbookVersion | None:
        return self.versions.order_by("-number").first()


class RunbookVersion(models.Model):
    """One version of a runbook. Never edited: an incident keeps the version it used."""

    runbook = models.ForeignKey(Runbook, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    safe_state = models.TextField(help_text="The state to bring the plant to first, in plain words.")
    steps = models.JSONField(
        help_text='Ordered steps: [{"text": "...", "role": "R"}, ...] (role: R, A, C or I).'
    )
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["runbook", "number"]
        db_table = "incidents_runbookversion"
        constraints = [models.UniqueConstraint(fields=["runbook", "number"], name="runbook_version_once")]

    def __str__(self) -> str:
        return f"{self.runbook} v{self.number}"

    def save(self, *args, **kwargs):
        if self.pk:
            raise ValidationError("A runbook version is never changed: save a new version instead.")
        super().save(*args, **kwargs)

    def clean(self) -> None:
        if not isinstance(self.steps, list) or not self.steps:
            raise ValidationError({"steps": "A runbook needs at least one step."})
        for i, step in enumerate(self.steps, start=1):
            if not isinstance(step, dict) or not str(step.get("text", "")).strip():
                raise ValidationError({"steps": f"Step {i} needs its text."})
            if step.get("role") not in Raci.values:
                raise ValidationError({"steps": f"Step {i}: role must be one of {', '.join(Raci.values)}."})
