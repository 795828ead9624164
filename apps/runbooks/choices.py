from django.db import models


class PriorityClass(models.TextChoices):
    """What comes first when compute and heating are coupled."""

    PLANT = "plant", "Plant protection"
    HEAT = "heat", "Heat continuity"
    SERVICE = "service", "Service continuity"
