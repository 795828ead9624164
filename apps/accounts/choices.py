from django.db import models


class Role(models.TextChoices):
    ESTATES = "estates", "Estates / facilities"
    DEVOPS = "devops", "DevOps on-call"
    MANAGER = "manager", "Manager"
    ADMIN = "admin", "Site administrator"
