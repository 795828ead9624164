from celery import shared_task

from apps.telemetry.influx.client import get_client

from .spool import get_spool


@shared_task(name="ingest.drain_spool", ignore_result=True)
def ingest_drain_spool_task() -> int:
    """Deliver telemetry kept while InfluxDB was unreachable (safe to run concurrently)."""
    return get_spool().drain(get_client())
