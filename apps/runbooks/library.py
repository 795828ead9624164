"""The runbooks every installation starts with. runbooks_seed() adds what is missing."""

from __future__ import annotations

from .choices import PriorityClass
from .models import Runbook, RunbookVersion

R, A, C, I = "R", "A", "C", "I"  # noqa: E741

LIBRARY = [
    (
        "pump-failure",
        "Pump failure",
        PriorityClass.PLANT,
        "Compute throttled or moved so the racks cannot overheat; dump path open; building on its boiler.",
        [
            ("Check the primary pump's status and breaker; try one restart.", R),
            ("If it does not restart within 2 minutes, throttle compute to 20 % or move workloads.", R),
            ("Open the dump path if the loop still carries heat.", R),
            ("Tell the building that heat delivery is paused; confirm their boiler is on.", I),
            ("Call the pump contractor; decide whether to shut the racks down.", A),
        ],
    ),
    (
        "overheating",
        "Overheating",
        PriorityClass.PLANT,
        "IT load reduced until rack inlets are below their limit; dump path open.",
        [
            ("Open the dump path (dry cooler) fully.", R),
            ("Throttle compute on the hottest racks first.", R),
            ("Check flow, valves and the heat exchanger for blockage.", R),
            ("Decide on a controlled shutdown if inlets keep rising.", A),
        ],
    ),
    (
        "consumer-offline",
        "Heat consumer offline",
        PriorityClass.HEAT,
        "Heat goes to the tank, then the dump path; compute runs on only if the dump path can take it.",
        [
            ("Confirm with the building whether their heating is off on purpose.", R),
            ("Watch the tank: when it passes 90 %, make sure the dump path opens.", R),
            ("If there is no dump path, throttle compute to what the tank can still take.", R),
            ("Agree with the building when they take heat again.", A),
        ],
    ),
    (
        "loss-of-network",
        "Loss of network",
        PriorityClass.SERVICE,
        "The plant runs on its local controls; nobody changes setpoints blind.",
        [
            ("Check whether the site's internet link or the agent is down.", R),
            ("Ask someone on site to read the heat meter and rack temperatures.", R),
            ("Open a ticket with the network provider.", R),
            ("Inform the building and the customer of the monitoring gap.", I),
        ],
    ),
    (
        "loss-of-power",
        "Loss of power",
        PriorityClass.SERVICE,
        "IT shut down cleanly on UPS; building on its boiler; pumps restart before IT.",
        [
            ("Confirm the outage and the UPS state.", R),
            ("Shut compute down cleanly before the UPS runs out.", R),
            ("When power returns: start pumps, check flow, then start compute.", R),
            ("Report the outage and its duration.", A),
        ],
    ),
    (
        "leak-detected",
        "Leak detected",
        PriorityClass.PLANT,
        "Water isolated from the racks; affected racks powered down.",
        [
            ("Power down the racks nearest the leak.", R),
            ("Close the isolation valves of the affected circuit.", R),
            ("Send someone on site to find and contain the leak.", R),
            ("Decide when the circuit may be refilled and restarted.", A),
        ],
    ),
    (
        "control-fault",
        "Control-system fault",
        PriorityClass.HEAT,
        "Plant on manual: fixed pump speed, dump path open, compute capped.",
        [
            ("Switch the plant controls to manual with a safe fixed pump speed.", R),
            ("Open the dump path and cap compute at 50 %.", R),
            ("Call the controls contractor.", A),
            ("Record every manual setpoint change with its reason.", R),
        ],
    ),
]


def runbooks_seed() -> int:
    """Add the library's runbooks that are missing (each with its first version); safe to repeat."""
    created = 0
    for slug, title, priority, safe_state, steps in LIBRARY:
        runbook, new = Runbook.objects.get_or_create(
            slug=slug, defaults={"title": title, "priority_class": priority}
        )
        if new or not runbook.versions.exists():
            RunbookVersion.objects.create(
                runbook=runbook,
                number=1,
                safe_state=safe_state,
                steps=[{"text": t, "role": r} for t, r in steps],
            )
            created += 1
    return created
