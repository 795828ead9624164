from django.db import models


class Area(models.TextChoices):
    ALARM_RESPONSE = "alarm_response", "Alarm response"
    THERMAL = "thermal", "Thermal performance"
    COMPUTE = "compute", "Compute availability"
    MAINTENANCE = "maintenance", "Maintenance"
    SAFETY = "safety", "Safety"
    CONTRACT = "contract", "Contract and billing"


class Raci(models.TextChoices):
    RESPONSIBLE = "R", "Responsible"
    ACCOUNTABLE = "A", "Accountable"
    CONSULTED = "C", "Consulted"
    INFORMED = "I", "Informed"


# Which area owns an alarm of each domain.
AREA_OF_DOMAIN = {
    "compute": Area.COMPUTE,
    "thermal": Area.THERMAL,
    "electrical": Area.MAINTENANCE,
    "network": Area.ALARM_RESPONSE,
    "safety": Area.SAFETY,
}


class RotationKind(models.TextChoices):
    WEEKLY = "weekly", "Weekly"
    DAILY = "daily", "Daily"


PERIOD_DAYS = {RotationKind.WEEKLY: 7, RotationKind.DAILY: 1}
