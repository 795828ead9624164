"""Test harness: a real InfluxDB and a real Redis for the whole run.

Unless HEATOPS_TEST_INFLUX_URL / HEATOPS_TEST_REDIS_URL name servers to use, the harness
starts influxd and redis-server (Debian packages, installed by deploy/bootstrap) on free
ports with their data in a temporary folder, and stops them when the run ends.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.cache import cache
from django.test.signals import clear_cache_handlers

from apps.telemetry.influx import InfluxClient, get_client, reset_client
from heatops.devservices import InfluxServer, RedisServer, free_port


def _point_settings_at(influx_url: str, redis_url: str) -> None:
    django_settings.INFLUX = {**django_settings.INFLUX, "URL": influx_url}
    django_settings.REDIS_URL = redis_url
    host = {**django_settings.CHANNEL_LAYER_HOST, "address": redis_url}
    django_settings.CHANNEL_LAYERS = {
        "default": {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {"hosts": [host]}}
    }
    django_settings.CELERY_BROKER_URL = redis_url
    django_settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": redis_url,
            "KEY_PREFIX": "test",
        }
    }
    clear_cache_handlers(setting="CACHES")
    os.environ["INFLUX_URL"] = influx_url
    os.environ["REDIS_URL"] = redis_url
    reset_client()


@pytest.fixture(scope="session")
def services(tmp_path_factory):
    """The URLs of the real InfluxDB and Redis the tests use."""
    started = []
    influx_url = os.environ.get("HEATOPS_TEST_INFLUX_URL")
    redis_url = os.environ.get("HEATOPS_TEST_REDIS_URL")
    root: Path = tmp_path_factory.mktemp("services")
    if not influx_url:
        influx = InfluxServer(root=root / "influxdb", port=free_port(), fsync_delay="0s")
        influx.start()
        started.append(influx)
        influx_url = influx.url
    if not redis_url:
        redis = RedisServer(root=root / "redis", port=free_port(), persist=False)
        redis.start()
        started.append(redis)
        redis_url = redis.url
    _point_settings_at(influx_url, redis_url)
    yield {"influx_url": influx_url, "redis_url": redis_url, "servers": {s.name: s for s in started}}
    reset_client()
    for server in started:
        server.stop()


@pytest.fixture(autouse=True)
def _real_services(services):
    """Every test runs with the real servers configured, and a Redis emptied of what an
    earlier test cached or published."""
    cache.clear()
    return services


@pytest.fixture
def demo_sites(db):
    from apps.sites.demo import seed_demo_sites

    return {s.slug: s for s in seed_demo_sites()}


@pytest.fixture
def pool_user(demo_sites, django_user_model):
    """An estates person who may see the pool and nothing else."""
    from apps.accounts.models import SiteAccess

    user = django_user_model.objects.create_user("estates", password="plant-room-3am")
    SiteAccess.objects.create(user=user, site=demo_sites["pool"])
    return user


@pytest.fixture
def influx(services, settings) -> InfluxClient:
    """The shared client, on a fresh database of its own that is dropped afterwards."""
    settings.INFLUX = {
        **settings.INFLUX,
        "URL": services["influx_url"],
        "DB": f"test_{uuid.uuid4().hex[:12]}",
    }
    client = get_client()
    client.ensure_database(retention=settings.INFLUX["RETENTION"])
    yield client
    client.drop_database()
    reset_client()
