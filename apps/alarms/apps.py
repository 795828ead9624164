from django.apps import AppConfig


class AlarmsConfig(AppConfig):
    name = "apps.alarms"
    verbose_name = "Alarms"

    def ready(self) -> None:
        from . import receivers  # noqa: F401
