from django.apps import AppConfig
from django.core.signals import setting_changed


class TelemetryConfig(AppConfig):
    name = "apps.telemetry"
    verbose_name = "Telemetry"

    def ready(self) -> None:
        from .influx.client import reset_client

        def _on_setting_changed(*, setting, **kwargs):
            if setting == "INFLUX":
                reset_client()

        setting_changed.connect(_on_setting_changed, weak=False)
