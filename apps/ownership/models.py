from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from apps.sites.models import Site, validate_timezone

from .choices import PERIOD_DAYS, Area, Raci, RotationKind


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
    rotation = models.ForeignKey(
        "Rotation", null=True, blank=True, on_delete=models.CASCADE, related_name="assignments"
    )

    class Meta:
        ordering = ["site", "area", "role"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(user__isnull=False, team__isnull=True, rotation__isnull=True)
                    | models.Q(user__isnull=True, team__isnull=False, rotation__isnull=True)
                    | models.Q(user__isnull=True, team__isnull=True, rotation__isnull=False)
                ),
                name="assignment_user_team_or_rotation",
            ),
            # a rotation is Responsible: whoever is on call does the work
            models.CheckConstraint(
                condition=models.Q(rotation__isnull=True) | models.Q(role="R"),
                name="rotation_only_responsible",
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
        if self.user_id:
            return self.user.get_full_name() or self.user.get_username()
        return f"Rotation: {self.rotation}" if self.rotation_id else str(self.team)

    def clean(self) -> None:
        if sum(bool(x) for x in (self.user_id, self.team_id, self.rotation_id)) != 1:
            raise ValidationError("Choose one person, team or rotation.")
        if self.rotation_id and self.role != Raci.RESPONSIBLE:
            raise ValidationError("A rotation can only be Responsible.")

    def people(self) -> list:
        """Everyone this cell names who is active, with access to the site or not (a
        rotation: all its members; escalation calls only the one on call)."""
        if self.user_id:
            return [self.user] if self.user.is_active else []
        if self.rotation_id:
            return [u for u in self.rotation.members_in_order if u.is_active]
        return [u for u in self.team.members.all() if u.is_active]

    def people_with_access(self) -> list:
        """Those of ``people()`` who may see the site: the ones notified. A person (or team
        member) without access stays in the matrix, flagged on the RACI page, but is not
        told of the site's alarms."""
        from apps.accounts.selectors import people_with_access

        allowed = people_with_access(self.site_id)
        if self.user_id:
            return list(allowed.filter(pk=self.user_id))
        if self.rotation_id:
            return list(allowed.filter(rotation_places__rotation=self.rotation_id))
        return list(allowed.filter(teams=self.team_id))


class Rotation(models.Model):
    """A team's on-call rota: its members take turns, a week or a day each, handing over
    at a local time of day in the rotation's time zone (so 09:00 stays 09:00 across a
    clock change). Overrides put someone else on call for a while (a swap for a day)."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="rotations")
    name = models.CharField(max_length=120, unique=True)
    kind = models.CharField(max_length=10, choices=RotationKind.choices, default=RotationKind.WEEKLY)
    timezone = models.CharField(
        max_length=64,
        default="Europe/London",
        validators=[validate_timezone],
        help_text="Hand-over times are local times here (an IANA name such as Europe/London).",
    )
    handover_time = models.TimeField(help_text="Local time of day at which one shift hands over to the next.")
    starts_on = models.DateField(
        help_text="The first shift starts at the hand-over time on this day; weekly shifts hand over "
        "on its weekday."
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def period_days(self) -> int:
        return PERIOD_DAYS[RotationKind(self.kind)]

    @property
    def members_in_order(self) -> list:
        return [m.user for m in self.members.select_related("user").order_by("position", "pk")]


class RotationMember(models.Model):
    """One place in a rotation's order: shift n is taken by the member at n mod members."""

    rotation = models.ForeignKey(Rotation, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="rotation_places"
    )
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["rotation", "position", "pk"]
        constraints = [models.UniqueConstraint(fields=["rotation", "user"], name="rotation_member_once")]

    def __str__(self) -> str:
        return f"{self.rotation}: {self.position}. {self.user}"


class RotationOverride(models.Model):
    """Someone on call instead of the rota's person, from ``starts_at`` to ``ends_at``."""

    rotation = models.ForeignKey(Rotation, on_delete=models.CASCADE, related_name="overrides")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    reason = models.CharField(max_length=200)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["starts_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")), name="override_ends_after_start"
            )
        ]

    def __str__(self) -> str:
        return f"{self.rotation}: {self.user} from {self.starts_at:%Y-%m-%d %H:%M}"


class CalendarFeed(models.Model):
    """A person's secret calendar-feed address for their calendar app, which can send no
    header: the token is in the URL, stored only as its hash, and read-only (it shows the
    on-call calendars of the rotations its person may see, nothing else). Revoked from
    the on-call page; issuing and revoking are audited."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feeds"
    )
    key_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=16)
    created_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.user}: calendar feed {self.prefix}…"
