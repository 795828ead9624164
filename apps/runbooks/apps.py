from django.apps import AppConfig


class RunbooksConfig(AppConfig):
    name = "apps.runbooks"
    verbose_name = "Runbooks"
