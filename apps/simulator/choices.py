from django.db import models


class FaultKind(models.TextChoices):
    """Faults the simulator can inject into a site; the values are the CLI's spelling."""

    PUMP_FAILURE = "pump-failure", "Pump failure"
    CONSUMER_OFFLINE = "consumer-offline", "Consumer offline"
    STUCK_SENSOR = "stuck-sensor", "Stuck sensor"
    LOST_TELEMETRY = "lost-telemetry", "Lost telemetry"
    OVERHEATING = "overheating", "Overheating"
    SERVER_REMOVED = "server-removed", "Server removed"


class SimulatedSensorKind(models.TextChoices):
    """What a stand-alone sensor asset reads, guessed from its slug and name."""

    LEAK = "leak", "Leak detector (0 dry, 1 wet)"
    ROOM_TEMPERATURE = "room_temperature", "Plant-room temperature (°C)"
