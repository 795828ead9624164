from django.db import models


class IncidentState(models.TextChoices):
    OPEN = "open", "Open"
    MITIGATED = "mitigated", "Mitigated"
    RESOLVED = "resolved", "Resolved"
    REVIEWED = "reviewed", "Reviewed"


class TimelineKind(models.TextChoices):
    OPENED = "opened", "Incident opened"
    ALARM = "alarm", "Alarm"
    NOTE = "note", "Note"
    STEP = "step", "Runbook step done"
    STATE = "state", "State changed"
    REVIEW = "review", "Review"
