from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from apps.telemetry.influx.client import get_client
from apps.telemetry.influx.errors import InfluxError


class Command(BaseCommand):
    help = "Create the InfluxDB database and make its retention policy the default (safe to repeat)."

    def handle(self, *args, **options):
        client = get_client()
        retention = settings.INFLUX.get("RETENTION", "400d")
        try:
            client.ensure_database(retention=retention)
        except InfluxError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"InfluxDB {client.url}: database '{client.database}', retention policy "
            f"'{client.retention_policy or 'autogen'}' keeps {retention}"
        )
