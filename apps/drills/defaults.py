"""The checklist every site starts with: for each scenario the default alarm rule that
should catch it, the runbook it offers and the safe state, from the rules and runbooks
heatops seeds (apps/alarms/defaults.py, apps/runbooks/library.py)."""

from __future__ import annotations

from .choices import Scenario

# scenario -> (alarm rule name, or "*" and the end of its name (the first such rule), or None;
#   runbook slug or None; time limit s; safe state when no runbook says it)
DEFAULT_CHECKLIST = {
    Scenario.PUMP_STOPPED: ("Primary loop flow lost", "pump-failure", 120, ""),
    Scenario.CONSUMER_OFFLINE: ("Heat consumer offline", "consumer-offline", 120, ""),
    Scenario.SENSOR_FAILED: (
        None,
        "control-fault",
        300,
        "A failed sensor is seen and its readings are not trusted: the plant runs on the others.",
    ),
    Scenario.TELEMETRY_LOST: ("Site telemetry missing", "loss-of-network", 240, ""),
    # the simulator takes out the first rack's first node: its "not reporting" rule
    Scenario.SERVER_REMOVED: (
        "* not reporting",
        None,
        300,
        "The other servers carry on; the rack's power and heat fall by the server's share; "
        "its absence is seen, not mistaken for a fault of the plant.",
    ),
    # the racks' inlets pass their limit within minutes while nodes throttle, so the loop's
    # supply never reaches its own limit: the first rack's inlet rule is the protection
    Scenario.OVERHEATING: ("* inlet too hot", "overheating", 600, ""),
}
