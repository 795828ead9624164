from django.conf import settings
from django.db import models

from apps.sites.models import Site


class AuditEntry(models.Model):
    """Who changed what, when, from what to what, and why. Written once, never edited."""

    site = models.ForeignKey(Site, null=True, blank=True, on_delete=models.SET_NULL, related_name="audit")
    at = models.DateTimeField(db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    action = models.CharField(max_length=40)
    object_type = models.CharField(max_length=60)
    object_id = models.CharField(max_length=40, blank=True)
    object_repr = models.CharField(max_length=200)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name_plural = "audit entries"

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action} {self.object_repr}"

    def save(self, *args, **kwargs):
        if self.pk:
            raise ValueError("Audit entries are never changed.")
        super().save(*args, **kwargs)

    @property
    def changes(self) -> list[tuple[str, object, object]]:
        before, after = self.before or {}, self.after or {}
        keys = sorted(set(before) | set(after))
        return [(k, before.get(k), after.get(k)) for k in keys if before.get(k) != after.get(k)]

    @property
    def diff(self) -> list[dict]:
        """The changes as people read them: a list (the holders of a RACI cell, say) as
        what was added and what was removed; anything else as before → after."""
        rows = []
        for key, old, new in self.changes:
            if isinstance(old, list | type(None)) and isinstance(new, list | type(None)) and (old or new):
                was, now = [str(x) for x in old or []], [str(x) for x in new or []]
                rows.append(
                    {
                        "key": key,
                        "added": [x for x in now if x not in was],
                        "removed": [x for x in was if x not in now],
                        "is_list": True,
                    }
                )
            else:
                rows.append({"key": key, "before": old, "after": new, "is_list": False})
        return rows
