from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from apps.sites.models import Site

from .choices import Area, Raci


class Team(models.Model):
    """A group of people named once and given roles together (e.g. 'DevOps on-call')."""

    name = models.CharField(max_length=120, unique=True)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="teams", blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Assignment(models.Model):
    """One cell of a site's RACI matrix: a person or a team holding a role in an area."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="raci")
    area = models.CharField(max_length=20, choices=Area.choices)
    role = models.CharField(max_length=1, choices=Raci.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.CASCADE, related_name="assignments"
    )

    class Meta:
        ordering = ["site", "area", "role"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(user__isnull=False, team__isnull=True)
                    | models.Q(user__isnull=True, team__isnull=False)
                ),
                name="assignment_user_or_team",
            ),
            # exactly one Accountable per site and area: at most one here, at least one checked by the grid
            models.UniqueConstraint(
                fields=["site", "area"], condition=models.Q(role="A"), name="one_accountable_per_area"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.site.slug} {self.get_area_display()}: {self.get_role_display()} {self.holder}"

    @property
    def holder(self) -> str:
        return self.user.get_full_name() or self.user.get_username() if self.user_id else str(self.team)

    def clean(self) -> None:
        if bool(self.user_id) == bool(self.team_id):
            raise ValidationError("Choose a person or a team, not both.")

    def people(self) -> list:
        """Everyone this cell names who is active, with access to the site or not."""
        if self.user_id:
            return [self.user] if self.user.is_active else []
        return [u for u in self.team.members.all() if u.is_active]

    def people_with_access(self) -> list:
        """Those of ``people()`` who may see the site: the ones notified. A person (or team
        member) without access stays in the matrix, flagged on the RACI page, but is not
        told of the site's alarms."""
        from apps.accounts.selectors import people_with_access

        allowed = people_with_access(self.site_id)
        if self.user_id:
            return list(allowed.filter(pk=self.user_id))
        return list(allowed.filter(teams=self.team_id))
