from django.db import models

from apps.simulator.choices import FaultKind


class Scenario(models.TextChoices):
    """What a commissioning engineer proves the plant protects itself against."""

    PUMP_STOPPED = "pump_stopped", "Pump stopped"
    CONSUMER_OFFLINE = "consumer_offline", "Heat consumer offline"
    SENSOR_FAILED = "sensor_failed", "Sensor failed"
    TELEMETRY_LOST = "telemetry_lost", "Telemetry lost"
    SERVER_REMOVED = "server_removed", "Server removed"
    OVERHEATING = "overheating", "Overheating"


# the simulator's fault that plays each scenario on a simulated site
SCENARIO_FAULT = {
    Scenario.PUMP_STOPPED: FaultKind.PUMP_FAILURE,
    Scenario.CONSUMER_OFFLINE: FaultKind.CONSUMER_OFFLINE,
    Scenario.SENSOR_FAILED: FaultKind.STUCK_SENSOR,
    Scenario.TELEMETRY_LOST: FaultKind.LOST_TELEMETRY,
    Scenario.SERVER_REMOVED: FaultKind.SERVER_REMOVED,
    Scenario.OVERHEATING: FaultKind.OVERHEATING,
}


class DrillMode(models.TextChoices):
    SIMULATED = "simulated", "Run through the simulator"
    MANUAL = "manual", "Ticked by hand with evidence"


class DrillState(models.TextChoices):
    RUNNING = "running", "Running"
    FINISHED = "finished", "Finished"
    ABORTED = "aborted", "Aborted"


class StepResult(models.TextChoices):
    PENDING = "pending", "Not started"
    RUNNING = "running", "Running"
    PASSED = "passed", "Passed"
    FAILED = "failed", "Failed"


DONE_RESULTS = [StepResult.PASSED, StepResult.FAILED]
