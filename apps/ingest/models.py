from __future__ import annotations

from django.conf import settings
from django.db import models

from apps.sites.models import Site


class IngestToken(models.Model):
    """A site's credential for pushing line protocol to the ingest endpoint.

    Only a SHA-256 hash of the token is stored (tokens are 256-bit random, so a plain
    hash is enough); the token itself is shown once, when it is issued.
    """

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="ingest_tokens")
    name = models.CharField(
        max_length=120, help_text="Which agent uses it, for example 'Telegraf on plant-room PC'."
    )
    prefix = models.CharField(
        max_length=16, editable=False, help_text="The token's first characters, to recognise it."
    )
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["site__name", "-created_at"]

    def __str__(self) -> str:
        return f"{self.site.slug}: {self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class IngestRefusal(models.Model):
    """A batch heatops accepted that InfluxDB then refused, in part or whole: data an agent
    was told was stored. The batch file is kept under the spool's failed/ folder."""

    site = models.ForeignKey(
        Site, null=True, blank=True, on_delete=models.SET_NULL, related_name="ingest_refusals"
    )
    at = models.DateTimeField(db_index=True)
    batch = models.CharField(max_length=200, help_text="The file under the spool's failed/ folder.")
    lines = models.PositiveIntegerField(help_text="Lines in the batch.")
    refused = models.PositiveIntegerField(help_text="Lines InfluxDB says it did not store.")
    reason = models.TextField(help_text="What InfluxDB said.")

    class Meta:
        ordering = ["-at"]
        verbose_name = "refused batch"
        verbose_name_plural = "refused batches"

    def __str__(self) -> str:
        return f"{self.batch}: {self.refused} of {self.lines} lines refused"
