from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Max

from apps.sites.models import Site


class ReportRecipient(models.Model):
    """Who receives a site's published monthly report by email.

    Stand-in until the RACI matrix exists: there, the people Informed for "contract and
    billing" receive it, and this model goes.
    """

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="report_recipients")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="report_subscriptions",
        help_text="A heatops user (their email address is used), or leave blank and give an address.",
    )
    email = models.EmailField(blank=True, help_text="Someone outside heatops, e.g. the customer's contact.")

    class Meta:
        ordering = ["site__name", "email"]
        verbose_name = "report recipient"

    def __str__(self) -> str:
        return f"{self.site.slug}: {self.address or '(no address)'}"

    @property
    def address(self) -> str:
        return self.email or (self.user.email if self.user_id else "")

    def clean(self) -> None:
        if bool(self.user_id) == bool(self.email):
            raise ValidationError("Give either a user or an email address, not both.")


class ReportSnapshotQuerySet(models.QuerySet):
    def latest_for(self, *, site: Site, period_start, period_end) -> ReportSnapshot | None:
        return (
            self.filter(site=site, period_start=period_start, period_end=period_end)
            .defer("pdf", "csv")
            .order_by("-version")
            .first()
        )

    def next_version(self, *, site: Site, period_start, period_end) -> int:
        current = self.filter(site=site, period_start=period_start, period_end=period_end).aggregate(
            v=Max("version")
        )["v"]
        return (current or 0) + 1


class ImmutableSnapshot(Exception):
    """A published report is never changed: recompute to publish a new version."""


class ReportSnapshot(models.Model):
    """A published report, frozen: its inputs, its figures and the files sent. Never edited;
    publishing the same period again makes the next version."""

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="report_snapshots")
    period_start = models.DateField(help_text="First local day of the period.")
    period_end = models.DateField(help_text="First local day after the period.")
    label = models.CharField(max_length=40)
    version = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    inputs = models.JSONField(help_text="Contract terms, factors, settings and coverage used.")
    figures = models.JSONField()
    csv = models.TextField()
    pdf = models.BinaryField()
    job = models.CharField(
        max_length=32,
        null=True,
        blank=True,
        unique=True,
        editable=False,
        help_text='The "Publish now" job that made it: a job run twice makes one version.',
    )

    objects = ReportSnapshotQuerySet.as_manager()

    class Meta:
        ordering = ["-period_start", "site__name", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["site", "period_start", "period_end", "version"], name="one_version"
            )
        ]

    def __str__(self) -> str:
        return f"{self.site.slug} {self.label} v{self.version}"

    def save(self, *args, **kwargs):
        if self.pk is not None or not self._state.adding:
            raise ImmutableSnapshot(f"report {self} is published and cannot change; publish a new version")
        super().save(*args, **kwargs)

    @property
    def filename(self) -> str:
        return f"heatops-{self.site.slug}-{self.label.replace(' ', '_')}-v{self.version}"


class ReportDelivery(models.Model):
    """A snapshot emailed: to whom and when (the snapshot itself never changes). Written in
    the transaction that sends the email: one per snapshot, so an email task run twice
    sends one email."""

    snapshot = models.ForeignKey(ReportSnapshot, on_delete=models.CASCADE, related_name="deliveries")
    sent_at = models.DateTimeField(auto_now_add=True)
    recipients = models.TextField()

    class Meta:
        ordering = ["-sent_at"]
        verbose_name_plural = "report deliveries"
        constraints = [models.UniqueConstraint(fields=["snapshot"], name="one_delivery_per_snapshot")]

    def __str__(self) -> str:
        return f"{self.snapshot} to {self.recipients}"
