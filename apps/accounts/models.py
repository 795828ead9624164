from django.conf import settings
from django.db import models

from apps.sites.models import Site


class SiteAccess(models.Model):
    """Who may see a site. Superusers see every site; everyone else only those listed."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="site_access")
    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="access")
    granted_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "site access"
        verbose_name_plural = "site access"
        constraints = [models.UniqueConstraint(fields=["user", "site"], name="site_access_once")]

    def __str__(self) -> str:
        return f"{self.user} → {self.site}"
