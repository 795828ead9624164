"""The rule set every site starts with, from its kind and its assets' rated limits."""

from __future__ import annotations

from django.db import transaction

from apps.assets.choices import AssetKind
from apps.assets.limits import DELTA_T_BAND_K, plant_limits
from apps.runbooks.selectors import runbooks_by_slug
from apps.sites.models import Site

from .choices import Domain, RuleKind, Severity
from .models import AlarmRule

# The library runbook (apps/runbooks/library.py) each hint names.
RUNBOOK_FOR_HINT = {
    "Pump failure": "pump-failure",
    "Overheating": "overheating",
    "Heat consumer offline": "consumer-offline",
    "Loss of network": "loss-of-network",
}


# The safe degrade: the dry cooler open and the primary supply (the racks' outlet) steady,
# within 0.3 K a minute. While it holds, a consumer not taking heat is the plant working as
# designed, not an alarm.
DUMP_PATH_HOLDING = [
    {"measurement": "dry_cooler", "field": "active", "tags": {}, "op": ">=", "value": 1},
    {
        "measurement": "loop",
        "field": "supply_temp_c",
        "tags": {"loop": "primary"},
        "op": "steady",
        "value": 0.3,
    },
]


# The site's own feed is fresh: its IT power has a recent point (any value holds).
SITE_REPORTING = [{"measurement": "facility", "field": "it_power_kw", "tags": {}, "op": ">=", "value": 0}]


def default_rules(site: Site) -> list[dict]:
    rules = []
    limits = plant_limits(site.assets.all())
    min_flow = limits.min_flow_m3h
    pumps = list(site.assets.filter(kind=AssetKind.PUMP, min_flow_m3h__isnull=False))
    if min_flow:
        rules.append(
            dict(
                # the primary pump's alarm when the site has one pump (a window on it covers it)
                asset=pumps[0] if len(pumps) == 1 else None,
                name="Primary loop flow lost",
                kind=RuleKind.BELOW,
                severity=Severity.CRITICAL,
                domain=Domain.THERMAL,
                measurement="loop",
                field="flow_m3h",
                tags={"loop": "primary"},
                threshold=min_flow,
                clear_at=min_flow * 1.2,
                for_seconds=20,
                meaning="Water has stopped moving through the servers' cooling loop, so their heat is not being carried "
                "away. Check the primary pump; if it cannot be restarted, throttle compute now.",
                runbook_hint="Pump failure",
            )
        )
    max_supply = limits.max_supply_temp_c
    if max_supply:
        rules.append(
            dict(
                name="Loop supply too hot",
                kind=RuleKind.ABOVE,
                severity=Severity.MAJOR,
                domain=Domain.THERMAL,
                measurement="loop",
                field="supply_temp_c",
                tags={"loop": "primary"},
                threshold=max_supply,
                clear_at=max_supply - 2,
                for_seconds=30,
                meaning="The water leaving the servers is hotter than the plant is rated for. Open the dump path or "
                "reduce compute.",
                runbook_hint="Overheating",
            )
        )
    for rack in site.assets.filter(kind=AssetKind.RACK, max_inlet_temp_c__isnull=False):
        rules.append(
            dict(
                name=f"{rack.name} inlet too hot",
                kind=RuleKind.ABOVE,
                severity=Severity.CRITICAL,
                domain=Domain.COMPUTE,
                asset=rack,
                measurement="rack",
                field="inlet_temp_c",
                tags={"asset": rack.slug},
                threshold=rack.max_inlet_temp_c,
                clear_at=rack.max_inlet_temp_c - 2,
                for_seconds=10,
                meaning=f"The coolant reaching {rack.name} is above its {rack.max_inlet_temp_c:g} °C limit: servers will "
                "throttle or shut down. Throttle compute on this rack.",
                runbook_hint="Overheating",
            )
        )
    low, high = DELTA_T_BAND_K
    for node in site.assets.filter(kind=AssetKind.NODE).order_by("pk"):
        rules.append(
            dict(
                name=f"{node.name} throttled",
                kind=RuleKind.ABOVE,
                severity=Severity.MAJOR,
                domain=Domain.COMPUTE,
                asset=node,
                measurement="node",
                field="throttled",
                tags={"asset": node.slug},
                threshold=0.5,  # true is 1, false 0
                for_seconds=60,
                meaning=f"{node.name} is throttling its workload: it runs slower than it should, usually because "
                "its coolant is too warm. Check its rack's inlet temperature and the primary loop; move or "
                "pause work on it if it persists.",
                runbook_hint="Overheating",
            )
        )
        rules.append(
            dict(
                name=f"{node.name} not reporting",
                kind=RuleKind.STALE,
                severity=Severity.MINOR,
                domain=Domain.COMPUTE,
                asset=node,
                measurement="node",
                field="power_kw",
                tags={"asset": node.slug},
                stale_after_s=120,
                conditions=SITE_REPORTING,
                meaning=f"{node.name} has sent nothing for two minutes while the rest of the site reports: it is "
                "off, taken out of its rack, or its agent has stopped. Its share of the heat is missing from the "
                "loop. Check the rack; if it was removed on purpose, put it under maintenance or retire it.",
            )
        )
    rules.append(
        dict(
            name="Loop ΔT out of band",
            kind=RuleKind.BAND,
            severity=Severity.MINOR,
            domain=Domain.THERMAL,
            measurement="loop",
            field="delta_t_k",
            tags={"loop": "primary"},
            band_low=low,
            band_high=high,
            for_seconds=120,
            conditions=[
                {
                    "measurement": "loop",
                    "field": "flow_m3h",
                    "tags": {"loop": "primary"},
                    "op": ">",
                    "value": 0.5,
                }
            ],
            meaning=f"The difference between supply and return temperature is outside {low:g}–{high:g} K while water "
            "flows: the loop is not carrying heat as designed (valve, sensor or pump setting).",
        )
    )
    rules.append(
        dict(
            name="Heat consumer offline",
            kind=RuleKind.BELOW,
            severity=Severity.MAJOR,
            domain=Domain.THERMAL,
            measurement="consumer",
            field="online",
            threshold=0.5,
            for_seconds=30,
            meaning="The building is not taking heat: it falls back to its boiler, and the servers' heat goes to the "
            "tank and the dump path.",
            runbook_hint="Heat consumer offline",
        )
    )
    rules.append(
        dict(
            name="Consumer not absorbing heat",
            kind=RuleKind.COMPOUND,
            severity=Severity.MAJOR,
            domain=Domain.THERMAL,
            rate_window_s=300,
            for_seconds=60,
            conditions=[
                {
                    "measurement": "loop",
                    "field": "return_temp_c",
                    "tags": {"loop": "primary"},
                    "op": "rising",
                    "value": 0.2,
                },
                {"measurement": "tank", "field": "soc_pct", "tags": {}, "op": ">=", "value": 95},
                {"measurement": "facility", "field": "it_power_kw", "tags": {}, "op": "steady", "value": 2.0},
                {"unless": DUMP_PATH_HOLDING},
            ],
            meaning="The consumer is not absorbing heat: return temperature rising with the tank full and IT load "
            "steady, and the dump path is not holding the loop. Throttle compute or open the dump path. (With "
            "the dry cooler open and the primary supply steady, the plant is degrading safely as designed, "
            "a school on a Sunday say: no alarm.)",
            runbook_hint="Heat consumer offline",
        )
    )
    rules.append(
        dict(
            name="Site telemetry missing",
            kind=RuleKind.STALE,
            severity=Severity.MAJOR,
            domain=Domain.NETWORK,
            measurement="facility",
            field="it_power_kw",
            stale_after_s=120,
            meaning="No readings have arrived from the site for two minutes: the network or the site's agent is down. "
            "The dashboard's numbers are old.",
            runbook_hint="Loss of network",
        )
    )
    return rules


@transaction.atomic
def alarm_rules_create_defaults(*, site: Site) -> list[AlarmRule]:
    """Create the site's default rules that it does not have yet (by name), each linked to
    the library runbook its hint names when that runbook exists; a default rule made before
    its runbook is linked now. Safe to repeat."""
    specs = default_rules(site)
    runbooks = runbooks_by_slug(RUNBOOK_FOR_HINT.values())

    def runbook_of(spec):
        return runbooks.get(RUNBOOK_FOR_HINT.get(spec.get("runbook_hint", "")))

    existing = {rule.name: rule for rule in site.alarm_rules.all()}
    created = []
    for spec in specs:
        rule = existing.get(spec["name"])
        if rule is not None:
            if rule.runbook_id is None and runbook_of(spec) is not None:
                rule.runbook = runbook_of(spec)
                rule.save(update_fields=["runbook"])
            continue
        rule = AlarmRule(site=site, runbook=runbook_of(spec), **spec)
        rule.full_clean()
        rule.save()
        created.append(rule)
    return created
