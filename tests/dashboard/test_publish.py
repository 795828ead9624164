"""The publisher renders after a read only the sites that may show something new, and
that still includes a site without a new point whose number has just turned stale or
whose alarms changed. Real InfluxDB and Redis (the cache a reconnecting page reads)."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone

from apps.alarms import services as alarm_services
from apps.alarms.defaults import alarm_rules_create_defaults
from apps.dashboard.live import Publisher
from apps.sites.models import Site
from apps.telemetry.influx.points import Point
from apps.telemetry.live import site_key
from apps.telemetry.pump import TelemetryPump

pytestmark = pytest.mark.django_db


def tile(site: Site) -> str:
    return cache.get(site_key(site.pk))["tile_html"]


def test_a_site_without_new_points_is_shown_stale_once_its_numbers_age(influx, demo_sites, settings):
    pool = Site.objects.get(slug="pool")
    t0 = datetime.now(UTC).replace(microsecond=0)
    influx.write([Point("facility", {"site": "pool"}, {"it_power_kw": 41.0}, t0)])
    pump = TelemetryPump(client=influx, handlers=[Publisher()])
    pump.tick(now=t0 + timedelta(seconds=1))
    assert "health-stale" not in tile(pool)

    pump.tick(now=t0 + timedelta(seconds=2))  # nothing new, nothing aged: nothing to show
    assert "health-stale" not in tile(pool)
    pump.tick(now=t0 + timedelta(seconds=settings.HEATOPS_STALE_AFTER_S + 1))
    assert "health-stale" in tile(pool)


def test_a_new_alarm_is_on_the_tile_at_the_next_read_without_a_new_point(influx, demo_sites):
    pool = Site.objects.get(slug="pool")
    t0 = datetime.now(UTC).replace(microsecond=0)
    influx.write([Point("facility", {"site": "pool"}, {"it_power_kw": 41.0}, t0)])
    pump = TelemetryPump(client=influx, handlers=[Publisher()])
    pump.tick(now=t0 + timedelta(seconds=1))
    rule = alarm_rules_create_defaults(site=pool)[0]
    assert "tile-alarm" not in tile(pool)

    alarm_services.alarm_raise(rule=rule, value=1.0, detail="raised by the test", now=timezone.now())
    pump.tick(now=t0 + timedelta(seconds=2))
    assert "tile-alarm" in tile(pool)
