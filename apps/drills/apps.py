from django.apps import AppConfig


class DrillsConfig(AppConfig):
    name = "apps.drills"
    verbose_name = "Commissioning and drills"

    def ready(self) -> None:
        from . import receivers  # noqa: F401
