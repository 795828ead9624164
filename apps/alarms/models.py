from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from apps.assets.models import Asset
from apps.sites.models import Site
from apps.telemetry import schema

from .choices import OPEN_STATES, AlarmState, Domain, EventKind, RuleKind, Severity, Transition

CONDITION_OPS = {">", "<", ">=", "<=", "rising", "falling", "steady"}


class AccountableNotAttached(AttributeError):
    """``Alarm.accountable`` was read before a selector attached it."""


class AlarmRule(models.Model):
    """A condition on live telemetry that raises an alarm, with what it means in plain words."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="alarm_rules")
    asset = models.ForeignKey(
        Asset, null=True, blank=True, on_delete=models.CASCADE, related_name="alarm_rules"
    )
    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=12, choices=RuleKind.choices)
    severity = models.CharField(max_length=10, choices=Severity.choices, default=Severity.MAJOR)
    domain = models.CharField(max_length=12, choices=Domain.choices)
    meaning = models.TextField(help_text="What it means and what to do, in words a non-engineer understands.")
    runbook_hint = models.CharField(max_length=200, blank=True, help_text="The runbook to follow, in words.")
    runbook = models.ForeignKey(
        "runbooks.Runbook",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="rules",
        help_text="The runbook an incident with this alarm suggests.",
    )
    enabled = models.BooleanField(default=True)

    # the series watched (the site tag is implied)
    measurement = models.CharField(max_length=40, blank=True, choices=[(m, m) for m in schema.MEASUREMENTS])
    field = models.CharField(max_length=60, blank=True)
    tags = models.JSONField(
        default=dict, blank=True, help_text='Extra tags, e.g. {"loop": "primary"} or {"asset": "rack-a"}.'
    )

    threshold = models.FloatField(
        null=True, blank=True, help_text="Above/below: the level that raises the alarm."
    )
    clear_at = models.FloatField(
        null=True,
        blank=True,
        help_text="Hysteresis: the level the value must come back past to clear (default: the threshold itself).",
    )
    for_seconds = models.PositiveIntegerField(
        default=0, help_text="The condition must hold this long before the alarm fires."
    )
    rate_per_min = models.FloatField(
        null=True, blank=True, help_text="Rate: change per minute (absolute) that raises the alarm."
    )
    rate_window_s = models.PositiveIntegerField(
        default=300, help_text="Rate: measured over this many seconds."
    )
    stale_after_s = models.PositiveIntegerField(
        null=True, blank=True, help_text="Stale: seconds without a new point."
    )
    band_low = models.FloatField(null=True, blank=True)
    band_high = models.FloatField(null=True, blank=True)
    conditions = models.JSONField(
        default=list,
        blank=True,
        help_text='Band and stale: the "while" conditions; compound: all conditions. Each: '
        '{"measurement", "field", "tags", "op" (> < >= <= rising falling steady), "value"} '
        "(for rising/falling/steady, value is a rate per minute). A compound rule may add "
        '{"unless": [conditions]}: it does not fire while all of those hold (a safe state '
        "working as designed).",
    )

    ack_timeout_min = models.PositiveIntegerField(
        default=15, help_text="Unacknowledged this long: call the next level."
    )
    max_escalations = models.PositiveSmallIntegerField(default=3)

    class Meta:
        ordering = ["site__name", "name"]

    def __str__(self) -> str:
        return f"{self.site.slug}: {self.name}"

    def clean(self) -> None:
        errors: dict[str, str] = {}
        needs_series = self.kind in {
            RuleKind.ABOVE,
            RuleKind.BELOW,
            RuleKind.RATE,
            RuleKind.STALE,
            RuleKind.BAND,
        }
        if needs_series:
            spec = schema.MEASUREMENTS.get(self.measurement)
            if spec is None:
                errors["measurement"] = "Choose the measurement this rule watches."
            elif self.field not in spec.fields:
                errors["field"] = (
                    f"'{self.field}' is not a field of {self.measurement} ({', '.join(spec.fields)})."
                )
        if self.kind in {RuleKind.ABOVE, RuleKind.BELOW}:
            if self.threshold is None:
                errors["threshold"] = "A threshold rule needs its threshold."
            elif self.clear_at is not None:
                wrong = (
                    self.clear_at > self.threshold
                    if self.kind == RuleKind.ABOVE
                    else self.clear_at < self.threshold
                )
                if wrong:
                    side = "at or below" if self.kind == RuleKind.ABOVE else "at or above"
                    errors["clear_at"] = (
                        f"To clear, the value must come back {side} the threshold ({self.threshold})."
                    )
        if self.kind == RuleKind.RATE and not self.rate_per_min:
            errors["rate_per_min"] = "A rate rule needs the change per minute that raises it."
        if self.kind == RuleKind.STALE and not self.stale_after_s:
            errors["stale_after_s"] = "A stale-data rule needs the seconds without data that raise it."
        if self.kind == RuleKind.BAND:
            if self.band_low is None or self.band_high is None or self.band_low >= self.band_high:
                errors["band_high"] = "A band rule needs a low and a higher high."
        if self.kind == RuleKind.COMPOUND and not self.conditions:
            errors["conditions"] = "A compound rule needs at least two conditions."
        problem = self._condition_problem()
        if problem:
            errors["conditions"] = problem
        if self.asset_id and self.site_id and self.asset.site_id != self.site_id:
            errors["asset"] = "The asset belongs to another site."
        if errors:
            raise ValidationError(errors)

    def _condition_problem(self) -> str:
        if not isinstance(self.conditions, list):
            return "Conditions are a list."
        for i, c in enumerate(self.conditions, start=1):
            if isinstance(c, dict) and "unless" in c and self.kind == RuleKind.COMPOUND:
                inner = c["unless"]
                if not isinstance(inner, list) or not inner:
                    return f"Condition {i}: unless is a list of conditions."
                for j, u in enumerate(inner, start=1):
                    if isinstance(u, dict) and "unless" in u:
                        return f"Condition {i}.{j}: an unless holds plain conditions only."
                    problem = _one_condition_problem(u, f"{i}.{j}")
                    if problem:
                        return problem
                continue
            problem = _one_condition_problem(c, str(i))
            if problem:
                return problem
        plain = [c for c in self.conditions if not (isinstance(c, dict) and "unless" in c)]
        if self.kind == RuleKind.COMPOUND and len(plain) < 2:
            return "A compound rule needs at least two conditions."
        return ""


def _one_condition_problem(c, where: str) -> str:
    if not isinstance(c, dict):
        return f"Condition {where} is not an object."
    spec = schema.MEASUREMENTS.get(c.get("measurement"))
    if spec is None:
        return f"Condition {where}: unknown measurement {c.get('measurement')!r}."
    if c.get("field") not in spec.fields:
        return f"Condition {where}: {c.get('field')!r} is not a field of {c['measurement']}."
    if c.get("op") not in CONDITION_OPS:
        return f"Condition {where}: op must be one of {', '.join(sorted(CONDITION_OPS))}."
    if not isinstance(c.get("value"), int | float):
        return f"Condition {where}: value must be a number."
    return ""


class Alarm(models.Model):
    """One occurrence of a rule's condition, from firing to resolution."""

    rule = models.ForeignKey(AlarmRule, on_delete=models.CASCADE, related_name="alarms")
    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="alarms")
    asset = models.ForeignKey(Asset, null=True, blank=True, on_delete=models.SET_NULL, related_name="alarms")
    state = models.CharField(
        max_length=14, choices=AlarmState.choices, default=AlarmState.FIRING, db_index=True
    )
    severity = models.CharField(max_length=10, choices=Severity.choices)
    domain = models.CharField(max_length=12, choices=Domain.choices)
    title = models.CharField(max_length=200)
    message = models.TextField()
    value = models.FloatField(null=True, blank=True)
    condition_active = models.BooleanField(default=True, help_text="Whether the condition holds right now.")
    occurrences = models.PositiveIntegerField(default=1)
    fired_at = models.DateTimeField()
    updated_at = models.DateTimeField(auto_now=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution_note = models.TextField(blank=True)
    shelved_until = models.DateTimeField(null=True, blank=True)
    shelved_reason = models.TextField(blank=True)
    escalation_level = models.PositiveSmallIntegerField(default=1)
    in_maintenance = models.BooleanField(
        default=False,
        help_text="Raised while a maintenance window covered it: recorded and shown, but it does not "
        "page or escalate until the window ends.",
    )
    next_escalation_at = models.DateTimeField(null=True, blank=True, db_index=True)

    class Meta:
        ordering = ["-fired_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["rule"], condition=Q(state__in=OPEN_STATES), name="one_open_alarm_per_rule"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.get_state_display()})"

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    @property
    def accountable(self) -> str | None:
        """Who is Accountable for this alarm's area at its site (RACI), as attached by
        ``selectors.with_accountable`` with one query for a whole page of alarms. It never
        queries itself: read before it is attached, it raises (in a template too), so a
        page that forgot to attach it fails rather than costing a query per alarm."""
        try:
            return self.__dict__["_accountable"]
        except KeyError:
            raise AccountableNotAttached(
                f"alarm {self.pk}: attach the Accountable first (alarms.selectors.with_accountable)"
            ) from None

    @accountable.setter
    def accountable(self, name: str | None) -> None:
        self.__dict__["_accountable"] = name


class AlarmEvent(models.Model):
    """The alarm's history: who did what, when."""

    alarm = models.ForeignKey(Alarm, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField()
    kind = models.CharField(max_length=14, choices=EventKind.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.get_kind_display()}"


class AlarmNotification(models.Model):
    """One notification of one transition of an alarm on one channel (the email of the
    level's people, or one webhook): recorded before it is sent, in the same transaction,
    so a task run twice sends it once. The key is (alarm, transition, level, channel)."""

    alarm = models.ForeignKey(Alarm, on_delete=models.CASCADE, related_name="notifications")
    transition = models.CharField(max_length=14, choices=Transition.choices)
    level = models.PositiveSmallIntegerField()
    channel = models.CharField(max_length=40, help_text='"email", or "webhook:<id>".')
    recipients = models.TextField(blank=True, help_text="The addresses emailed, or the webhook's name.")
    created_at = models.DateTimeField()
    done_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="Email: when it was sent. Webhook: when the receiver took it, or it was refused.",
    )

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["alarm", "transition", "level", "channel"], name="one_notification_per_channel"
            )
        ]

    def __str__(self) -> str:
        return f"alarm {self.alarm_id} {self.transition} level {self.level} by {self.channel}"


class UnqueuedNotification(models.Model):
    """A transition whose notification task could not be queued: the Celery broker (Redis)
    was unreachable when the alarm changed. Kept here, in the database that holds the
    alarm, and queued again by the ``alarms.requeue`` beat task once the broker answers
    (``delivery.alarm_notifications_requeue``), so a Redis outage delays a page but
    never loses it."""

    alarm = models.ForeignKey(Alarm, on_delete=models.CASCADE, related_name="+")
    transition = models.CharField(max_length=14, choices=Transition.choices)
    level = models.PositiveSmallIntegerField()
    at = models.DateTimeField(help_text="When queueing it failed.")
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"alarm {self.alarm_id} {self.transition} level {self.level}, not queued at {self.at}"


class OnCall(models.Model):
    """Who is called for a site's alarms, level by level (the RACI issue replaces this)."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="on_call")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="on_call")
    level = models.PositiveSmallIntegerField(
        default=1, help_text="1 is called first; 2 when 1 does not acknowledge; ..."
    )

    class Meta:
        ordering = ["site__name", "level", "user__username"]
        verbose_name = "on-call entry"
        verbose_name_plural = "on-call list"
        constraints = [models.UniqueConstraint(fields=["site", "user", "level"], name="on_call_once")]

    def __str__(self) -> str:
        return f"{self.site.slug} level {self.level}: {self.user}"

    def clean(self) -> None:
        from apps.accounts.selectors import people_with_access

        if (
            self.site_id
            and self.user_id
            and not people_with_access(self.site_id).filter(pk=self.user_id).exists()
        ):
            raise ValidationError({"user": "This person has no access to the site: give them access first."})


class Webhook(models.Model):
    """A URL told of every alarm transition, with an HMAC-SHA256 signature it can verify."""

    name = models.CharField(max_length=120)
    url = models.URLField()
    secret = models.CharField(max_length=128, help_text="Shared secret for the X-Heatops-Signature header.")
    site = models.ForeignKey(
        Site,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="webhooks",
        help_text="Blank: every site.",
    )
    is_active = models.BooleanField(default=True)

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        from .webhooks import webhook_url_problem

        problem = webhook_url_problem(self.url) if self.url else ""
        if problem:
            raise ValidationError({"url": problem})
