from django.conf import settings
from django.db import models

from apps.sites.models import Site

from .choices import Role


class SiteAccess(models.Model):
    """Who may see a site, and in which role (apps/accounts/permissions.py). Superusers see
    every site as administrators; everyone else only the sites listed here."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="site_access")
    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="access")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.ESTATES)
    granted_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "site access"
        verbose_name_plural = "site access"
        constraints = [models.UniqueConstraint(fields=["user", "site"], name="site_access_once")]

    def __str__(self) -> str:
        return f"{self.user} → {self.site}"


class PersonalToken(models.Model):
    """A person's token for the REST API (scripts, chat bots). Only a hash is stored."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=120, help_text="What uses it, for example 'chat bot'.")
    prefix = models.CharField(max_length=16, editable=False)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["user__username", "-created_at"]

    def __str__(self) -> str:
        return f"{self.user}: {self.name} ({self.prefix}…)"
