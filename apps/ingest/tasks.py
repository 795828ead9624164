from apps.telemetry.influx.client import get_client
from heatops.tasking import task

from .spool import get_spool


@task("ingest.drain_spool")
def ingest_drain_spool_task() -> int:
    """Deliver telemetry kept while InfluxDB was unreachable (safe to run concurrently)."""
    return get_spool().drain(get_client())
