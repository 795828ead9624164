"""A site's commissioning checklist (per scenario: the alarm expected within a time limit,
the runbook it should offer, the safe state), and its drills, each with a step per
scenario recording what happened."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from apps.alarms.models import Alarm, AlarmRule
from apps.runbooks.models import Runbook
from apps.sites.models import Site

from .choices import DrillMode, DrillState, Scenario, StepResult


class ChecklistItem(models.Model):
    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="checklist")
    scenario = models.CharField(max_length=20, choices=Scenario.choices)
    expected_rule = models.ForeignKey(
        AlarmRule,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The alarm that must fire. Blank: the site has no protection for this yet.",
    )
    expected_runbook = models.ForeignKey(
        Runbook,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The runbook the alarm must offer.",
    )
    safe_state = models.TextField(help_text="The state the plant must reach, in plain words.")
    time_limit_s = models.PositiveIntegerField(
        default=300,
        validators=[MinValueValidator(10), MaxValueValidator(3600)],
        help_text="How long after the scenario begins the alarm may take.",
    )

    class Meta:
        ordering = ["site", "pk"]
        verbose_name = "checklist item"
        constraints = [
            models.UniqueConstraint(fields=["site", "scenario"], name="one_checklist_item_per_scenario")
        ]

    def __str__(self) -> str:
        return f"{self.site.slug}: {self.get_scenario_display()}"


class Drill(models.Model):
    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="drills")
    mode = models.CharField(max_length=10, choices=DrillMode.choices)
    state = models.CharField(
        max_length=10, choices=DrillState.choices, default=DrillState.RUNNING, db_index=True
    )
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    advanced_at = models.DateTimeField(
        null=True, blank=True, help_text="When the drill task last moved it on."
    )
    settle_s = models.PositiveIntegerField(
        default=120, help_text="Time for the plant to recover between steps."
    )
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-started_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["site"],
                condition=models.Q(state="running"),
                name="one_running_drill_per_site",
                violation_error_message="A drill is already running at this site.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.site.slug}: drill #{self.pk} ({self.get_state_display().lower()})"

    @property
    def passed(self) -> int:
        return sum(s.result == StepResult.PASSED for s in self.steps.all())

    @property
    def total(self) -> int:
        return len(self.steps.all())

    @property
    def summary(self) -> str:
        """What the site page says: "3 of 6 passed"."""
        return f"{self.passed} of {self.total} passed"


class DrillStep(models.Model):
    """One scenario of a drill, with the checklist's expectation copied when it began."""

    drill = models.ForeignKey(Drill, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveSmallIntegerField()
    scenario = models.CharField(max_length=20, choices=Scenario.choices)
    expected_rule = models.ForeignKey(
        AlarmRule, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    expected_runbook = models.ForeignKey(
        Runbook, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    safe_state = models.TextField(blank=True)
    time_limit_s = models.PositiveIntegerField()
    result = models.CharField(max_length=10, choices=StepResult.choices, default=StepResult.PENDING)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    alarm = models.ForeignKey(Alarm, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    alarm_after_s = models.FloatField(null=True, blank=True, help_text="How long the alarm took.")
    runbook_offered = models.BooleanField(null=True)
    detail = models.CharField(max_length=300, blank=True)
    evidence = models.TextField(
        blank=True, help_text="On a real site: what was seen, by whom, where it is recorded."
    )
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["drill", "position"]
        verbose_name = "drill step"
        constraints = [models.UniqueConstraint(fields=["drill", "position"], name="one_step_per_position")]

    def __str__(self) -> str:
        return f"{self.get_scenario_display()}: {self.get_result_display().lower()}"
