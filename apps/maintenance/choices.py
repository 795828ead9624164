from django.db import models


class WindowState(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    ACTIVE = "active", "Active"
    ENDED = "ended", "Ended"
    CANCELLED = "cancelled", "Cancelled"


OPEN_WINDOW_STATES = [WindowState.SCHEDULED, WindowState.ACTIVE]


class LogKind(models.TextChoices):
    INSPECTION = "inspection", "Inspection"
    REPAIR = "repair", "Repair"
    WATER_TREATMENT = "water_treatment", "Water treatment"
    FILTER_CHANGE = "filter_change", "Filter change"
    SENSOR_CALIBRATION = "sensor_calibration", "Sensor calibration"
    SERVICE = "service", "Service"
    OTHER = "other", "Other"


class WorkOrderState(models.TextChoices):
    OPEN = "open", "Open"
    SCHEDULED = "scheduled", "Scheduled"
    IN_PROGRESS = "in_progress", "In progress"
    DONE = "done", "Done"
    CANCELLED = "cancelled", "Cancelled"


OPEN_WORK_ORDER_STATES = [WorkOrderState.OPEN, WorkOrderState.SCHEDULED, WorkOrderState.IN_PROGRESS]

# Which state a work order may move to from each.
WORK_ORDER_NEXT = {
    WorkOrderState.OPEN: {
        WorkOrderState.SCHEDULED,
        WorkOrderState.IN_PROGRESS,
        WorkOrderState.DONE,
        WorkOrderState.CANCELLED,
    },
    WorkOrderState.SCHEDULED: {
        WorkOrderState.OPEN,
        WorkOrderState.IN_PROGRESS,
        WorkOrderState.DONE,
        WorkOrderState.CANCELLED,
    },
    WorkOrderState.IN_PROGRESS: {WorkOrderState.SCHEDULED, WorkOrderState.DONE, WorkOrderState.CANCELLED},
    WorkOrderState.DONE: {WorkOrderState.OPEN},
    WorkOrderState.CANCELLED: {WorkOrderState.OPEN},
}
