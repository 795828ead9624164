import logging

from django.conf import settings
from django.core.management.base import BaseCommand

from apps.telemetry.pump import TelemetryPump


class Command(BaseCommand):
    help = "Read InfluxDB once per tick for every site and publish what changed to the live pages."

    def add_arguments(self, parser):
        parser.add_argument(
            "--tick",
            type=float,
            default=None,
            help=f"seconds per tick (default {settings.HEATOPS_PUMP_TICK_S})",
        )

    def handle(self, *args, tick=None, **options):
        pump = TelemetryPump()
        logging.getLogger(__name__).info(
            "telemetry pump: one InfluxDB read every %s s", tick or settings.HEATOPS_PUMP_TICK_S
        )
        try:
            pump.run(tick_s=tick)
        except KeyboardInterrupt:
            pass
