from django.db import models


class RuleKind(models.TextChoices):
    ABOVE = "above", "Above a threshold"
    BELOW = "below", "Below a threshold"
    RATE = "rate", "Changing faster than a rate"
    STALE = "stale", "Stale or missing data"
    BAND = "band", "Outside a band while a condition holds"
    COMPOUND = "compound", "Several conditions together"
    SYSTEM = "system", "Raised by heatops itself"


class Severity(models.TextChoices):
    CRITICAL = "critical", "Critical"
    MAJOR = "major", "Major"
    MINOR = "minor", "Minor"
    WARNING = "warning", "Warning"


SEVERITY_ORDER = [Severity.CRITICAL, Severity.MAJOR, Severity.MINOR, Severity.WARNING]
# the severities that mark a site in alarm and a panel row as a problem (the others: check)
SERIOUS = {Severity.CRITICAL, Severity.MAJOR}


class Domain(models.TextChoices):
    COMPUTE = "compute", "Compute"
    THERMAL = "thermal", "Thermal"
    ELECTRICAL = "electrical", "Electrical"
    NETWORK = "network", "Network"
    SAFETY = "safety", "Safety"


class AlarmState(models.TextChoices):
    FIRING = "firing", "Firing"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    SHELVED = "shelved", "Shelved"
    RESOLVED = "resolved", "Resolved"


OPEN_STATES = [AlarmState.FIRING, AlarmState.ACKNOWLEDGED, AlarmState.SHELVED]


class EventKind(models.TextChoices):
    FIRED = "fired", "Fired"
    RECURRED = "recurred", "Occurred again"
    CLEARED = "cleared", "Condition cleared"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    RESOLVED = "resolved", "Resolved"
    SHELVED = "shelved", "Shelved"
    UNSHELVED = "unshelved", "Shelving ended"
    ESCALATED = "escalated", "Escalated"
    NOTIFIED = "notified", "Notified"
    NOTE = "note", "Note"


class Transition(models.TextChoices):
    """What notifications are sent for: once per transition, never per tick."""

    FIRED = "fired", "fired"
    ESCALATED = "escalated", "escalated"
    ACKNOWLEDGED = "acknowledged", "acknowledged"
    RESOLVED = "resolved", "resolved"
