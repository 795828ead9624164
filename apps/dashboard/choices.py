from django.db import models


class Level(models.TextChoices):
    """How one answer stands. Shown with a word and an icon as well as a colour."""

    OK = "ok", "OK"
    WARN = "warn", "Check"
    BAD = "bad", "Problem"
    UNKNOWN = "unknown", "Unknown"


class Health(models.TextChoices):
    ALARM = "alarm", "Alarm"
    STALE = "stale", "No recent data"
    DEGRADED = "degraded", "Degraded"
    OK = "ok", "OK"


Health.ORDER = [Health.ALARM, Health.STALE, Health.DEGRADED, Health.OK]  # worst first
