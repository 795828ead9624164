"""manage.py simulate --fault / --clear-fault / --list-faults, and a running loop that
picks the fault up from the database on its next tick."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from apps.simulator.live import SimulationRunner
from apps.simulator.models import SimulatedFault
from apps.simulator.selectors import simulated_site_specs

pytestmark = pytest.mark.django_db


def pump_reading(influx):
    (reading,) = influx.latest(measurements=["pump"], tags={"site": "pool"}, lookback="1h")
    return reading


def test_a_fault_injected_from_the_command_line_reaches_the_running_loop(influx, demo_sites, capsys):
    runner = SimulationRunner(specs=simulated_site_specs(), seed=1, interval=5.0)
    at = timezone.now().replace(microsecond=0) - timedelta(minutes=5)
    runner.tick(at=at)
    assert pump_reading(influx).fields["running"] is True

    call_command("simulate", fault="pump-failure", site="pool")
    assert "pump-failure injected at pool" in capsys.readouterr().out
    fault = SimulatedFault.objects.get(site__slug="pool", kind="pump-failure")
    assert fault.is_active

    for k in range(1, 7):
        runner.tick(at=at + timedelta(seconds=5 * k))
    reading = pump_reading(influx)
    assert reading.time == at + timedelta(seconds=30)
    assert reading.fields["running"] is False and reading.fields["speed_pct"] == 0.0
    (loop,) = influx.latest(measurements=["loop"], tags={"site": "pool", "loop": "primary"}, lookback="1h")
    assert loop.fields["flow_m3h"] == 0.0
    (school_pump,) = influx.latest(measurements=["pump"], tags={"site": "school"}, lookback="1h")
    assert school_pump.fields["running"] is True  # the other site is untouched

    call_command("simulate", list_faults=True)
    assert "active   pool         pump-failure" in capsys.readouterr().out

    call_command("simulate", clear_fault="pump-failure", site="pool")
    assert "pump-failure cleared at pool" in capsys.readouterr().out
    fault.refresh_from_db()
    assert not fault.is_active and fault.cleared_at >= fault.started_at
    assert not SimulatedFault.objects.filter(cleared_at__isnull=True).exists()

    runner.tick(at=at + timedelta(seconds=35))
    assert pump_reading(influx).fields["running"] is True


def test_the_fault_commands_say_what_is_wrong(demo_sites):
    call_command("simulate", fault="overheating", site="school")
    with pytest.raises(CommandError, match="overheating is already active at school"):
        call_command("simulate", fault="overheating", site="school")
    with pytest.raises(CommandError, match="stuck-sensor is not active at school"):
        call_command("simulate", clear_fault="stuck-sensor", site="school")
    with pytest.raises(CommandError, match="unknown fault 'flood'; choose one of pump-failure"):
        call_command("simulate", fault="flood", site="school")
    with pytest.raises(CommandError, match="name the site with --site"):
        call_command("simulate", fault="pump-failure")
    with pytest.raises(CommandError, match=r"no site 'mars' \(sites: pool, school\)"):
        call_command("simulate", fault="pump-failure", site="mars")
    with pytest.raises(CommandError, match="no site 'mars'"):
        call_command("simulate", sites="pool,mars", ticks=1)
    with pytest.raises(CommandError, match="between 1 and 10 seconds"):
        call_command("simulate", interval=0.5, ticks=1)
    assert SimulatedFault.objects.filter(cleared_at__isnull=True).count() == 1


def test_backfill_from_the_command_line_reports_each_day(influx, demo_sites, capsys):
    call_command("simulate", backfill_days=0.05, step=60, sites="school", workers=1)
    out = capsys.readouterr().out
    assert "backfill: 0.05 days of school at 60 s steps" in out
    assert "day 1/1" in out and "backfill done: 1,224 points" in out
    assert influx.latest(measurements=["facility"], lookback="2h")[0].tags == {"site": "school"}


def test_a_backfill_if_empty_leaves_existing_history_alone(influx, demo_sites, capsys):
    call_command("simulate", backfill_days=0.01, step=60, workers=1, if_empty=True)
    assert "backfill done" in capsys.readouterr().out
    call_command("simulate", backfill_days=0.01, step=60, workers=1, if_empty=True)
    assert "backfill skipped: pool, school already has telemetry" in capsys.readouterr().out
