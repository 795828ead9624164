from django.apps import AppConfig


class MaintenanceConfig(AppConfig):
    name = "apps.maintenance"
    verbose_name = "Maintenance"

    def ready(self) -> None:
        from . import receivers  # noqa: F401
