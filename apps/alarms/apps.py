from django.apps import AppConfig


class AlarmsConfig(AppConfig):
    name = "apps.alarms"
    verbose_name = "Alarms"
