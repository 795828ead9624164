"""The demo's maintenance: one scheduled window (the pool's pump service, tomorrow morning
in the site's time), a few log entries and work orders per demo site. Made once: a site
that has any maintenance already is left as it is."""

from __future__ import annotations

import zoneinfo
from datetime import datetime, time, timedelta

from django.utils import timezone

from apps.maintenance import services
from apps.maintenance.choices import LogKind, WorkOrderState
from apps.maintenance.models import LogEntry, MaintenanceWindow, WorkOrder


def seed_demo_maintenance(sites, people, *, now: datetime | None = None) -> str:
    now = now or timezone.now()
    eve, sam, morgan = people["estates"][0], people["oncall"][0], people["manager"][0]
    made = []
    for site in sites:
        if (
            MaintenanceWindow.objects.filter(site=site).exists()
            or LogEntry.objects.filter(site=site).exists()
            or WorkOrder.objects.filter(site=site).exists()
        ):
            continue
        tz = zoneinfo.ZoneInfo(site.timezone)
        assets = {a.slug: a for a in site.assets.all()}
        pump = assets.get("pump-primary")
        if site.slug == "pool" and pump:
            tomorrow = (now.astimezone(tz) + timedelta(days=1)).date()
            start = datetime.combine(tomorrow, time(9, 0), tz)
            services.window_schedule(
                site=site,
                asset=pump,
                reason="pump service: bearings and seal",
                owner=eve,
                planned_start=start,
                planned_end=start + timedelta(hours=3),
                user=eve,
                now=now,
            )
            made.append(f"{site.slug}: a window tomorrow 09:00-12:00")
        log = [
            (LogKind.INSPECTION, None, 6, "Weekly plant-room walk round: no leaks, pressures normal.", {}),
            (
                LogKind.WATER_TREATMENT,
                None,
                3,
                "Secondary loop dosed with inhibitor.",
                {"pH": 8.1, "conductivity µS/cm": 420.0, "inhibitor ppm": 180.0},
            ),
            (
                LogKind.FILTER_CHANGE,
                "drycooler-1" if "drycooler-1" in assets else None,
                2,
                "Dry cooler filters replaced.",
                {},
            ),
            (
                LogKind.SENSOR_CALIBRATION,
                "meter-1" if "meter-1" in assets else None,
                1,
                "Heat meter temperature pair checked against a reference thermometer: within 0.1 K.",
                {"supply offset K": 0.05, "return offset K": -0.08},
            ),
        ]
        for kind, slug, days_ago, notes, readings in log:
            services.log_entry_add(
                site=site,
                kind=kind,
                asset=assets.get(slug) if slug else None,
                performed_by=eve,
                performed_at=now - timedelta(days=days_ago),
                notes=notes,
                readings=readings,
                user=eve,
                now=now,
            )
        seal = services.work_order_create(
            site=site,
            title="Replace the primary pump's mechanical seal",
            description="Weeping seal seen on the walk round.",
            asset=pump,
            assignee=eve,
            due=(now + timedelta(days=1)).date(),
            user=eve,
            now=now,
        )
        services.work_order_set_state(work_order=seal, state=WorkOrderState.SCHEDULED, user=eve, now=now)
        services.work_order_create(
            site=site,
            title="Recalibrate the tank's top temperature sensor",
            assignee=eve,
            due=(now + timedelta(days=10)).date(),
            user=morgan,
            now=now,
        )
        done = services.work_order_create(
            site=site,
            title="Bleed air from the secondary loop",
            assignee=eve,
            user=sam,
            now=now - timedelta(days=5),
        )
        services.work_order_set_state(
            work_order=done, state=WorkOrderState.DONE, user=eve, now=now - timedelta(days=4)
        )
        made.append(f"{site.slug}: {len(log)} log entries, 3 work orders")
    return "; ".join(made) or "kept as it was"
