"""Test harness: a real InfluxDB and a real Redis for the whole run, and the database.

Unless HEATOPS_TEST_INFLUX_URL / HEATOPS_TEST_REDIS_URL name servers to use, the harness
starts influxd and redis-server (Debian packages, installed by deploy/bootstrap) on free
ports with their data in a temporary folder, and stops them when the run ends.

The database is SQLite, or with HEATOPS_TEST_DB=postgres a PostgreSQL cluster the harness
starts the same way (Debian's ``postgresql``) unless HEATOPS_TEST_DATABASE_URL names one;
pytest-django creates the test database on it (heatops/settings/test.py).

The suite passes on any date (docs/testing.md): no test reads the clock at import; the
``now`` fixture reads it when a test starts, and points are written relative to it or
at dates chosen for their calendar (a DST month) that the infinite retention of the
test databases keeps. ``deploy/test --clock-check`` runs it again under a shifted clock.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.cache import cache
from django.test.signals import clear_cache_handlers

from apps.telemetry.influx.client import InfluxClient, get_client, reset_client
from apps.telemetry.influx.escaping import quote_ident
from heatops.devservices.base import free_port
from heatops.devservices.postgres import PostgresServer
from heatops.devservices.stores import InfluxServer, RedisServer


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


@contextlib.contextmanager
def _without_faketime():
    """Start child processes on the machine's real clock.

    Under libfaketime (``faketime -f +400d deploy/test``, ``deploy/test --clock-check``)
    only heatops' own code should see the shifted clock. redis-server cannot even start
    with libfaketime preloaded (its jemalloc recurses into clock_gettime), and influxd, a
    Go binary, reads the clock through the vDSO and ignores it anyway. So the servers run
    on the real clock, like servers whose clocks differ from the application's: any query
    that leans on InfluxDB's own now() shows up as a failing test.
    """
    saved = {k: os.environ.pop(k) for k in ("LD_PRELOAD", "FAKETIME") if k in os.environ}
    try:
        yield
    finally:
        os.environ.update(saved)


@pytest.fixture(scope="session")
def services(tmp_path_factory):
    """The URLs of the real InfluxDB and Redis the tests use."""
    started = []
    influx_url = os.environ.get("HEATOPS_TEST_INFLUX_URL")
    redis_url = os.environ.get("HEATOPS_TEST_REDIS_URL")
    root: Path = tmp_path_factory.mktemp("services")
    if not influx_url:
        influx = InfluxServer(root=root / "influxdb", port=free_port(), fsync_delay="0s")
        with _without_faketime():
            influx.start()
        started.append(influx)
        influx_url = influx.url
    if not redis_url:
        redis = RedisServer(root=root / "redis", port=free_port(), persist=False)
        with _without_faketime():
            redis.start()
        started.append(redis)
        redis_url = redis.url
    _point_settings_at(influx_url, redis_url)
    yield {"influx_url": influx_url, "redis_url": redis_url, "servers": {s.name: s for s in started}}
    reset_client()
    for server in started:
        server.stop()


@pytest.fixture(scope="session")
def database_server():
    """On PostgreSQL, the settings of the server the tests use (started here unless
    HEATOPS_TEST_DATABASE_URL names one); None on SQLite."""
    db = django_settings.DATABASES["default"]
    if db["ENGINE"] != "django.db.backends.postgresql":
        yield None
        return
    server = None
    if not db.get("HOST"):
        # not under the pytest temporary folder: that one is private to us, and as root
        # PostgreSQL runs as the postgres user, who must be able to reach its data
        root = Path(tempfile.mkdtemp(prefix="heatops-test-postgres-"))
        server = PostgresServer(root=root, port=free_port(), durable=False)
        with _without_faketime():
            server.start()
        # in place: Django's connection handler holds this very dict
        db.update(HOST="127.0.0.1", PORT=str(server.port), USER=server.user, PASSWORD=server.password)
    yield db
    if server:
        server.stop()
        shutil.rmtree(server.root, ignore_errors=True)


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix, database_server):
    """pytest-django's hook for changing the database settings before the test database is
    created: the PostgreSQL server is started (and the settings point at it) first."""


@pytest.fixture(scope="session")
def stack_database(database_server):
    """``with stack_database("browser") as url:`` gives the DATABASE_URL for a stack of real
    processes (heatops.devstack.stack): on PostgreSQL a new database on the test server,
    dropped afterwards; on SQLite None, and the stack keeps a database file of its own."""

    @contextlib.contextmanager
    def new(name: str):
        if database_server is None:
            yield None
            return
        import psycopg
        from psycopg import sql

        db = database_server
        name = f"stack_{name}_{uuid.uuid4().hex[:8]}"
        conninfo = {"host": db["HOST"], "port": db["PORT"], "user": db["USER"], "password": db["PASSWORD"]}
        with psycopg.connect(dbname="postgres", autocommit=True, **conninfo) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        try:
            yield f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{name}"
        finally:
            with psycopg.connect(dbname="postgres", autocommit=True, **conninfo) as conn:
                conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))

    return new


@pytest.fixture(autouse=True)
def _real_services(services):
    """Every test runs with the real servers configured, and a Redis emptied of what an
    earlier test cached or published."""
    cache.clear()
    return services


@pytest.fixture
def now() -> datetime:
    """This test's "now" (UTC, whole seconds), read from the clock when the test starts.

    Write points relative to it and pass it to the services, the pump and the evaluator
    (``now=``), so a test means the same thing on any date and however long the run takes.
    """
    return datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
def demo_sites(db):
    from apps.demo.sites import seed_demo_sites

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
    """The shared client, on a fresh database of its own that is dropped afterwards.

    Its default retention policy is the configured one (``heatops``) made infinite, on
    purpose: a test that writes a month chosen for its calendar (October's clock change,
    say) must not start failing the day that month falls out of the production retention
    (400 d), nor have its points refused as too old. Each database lives for one test.
    """
    settings.INFLUX = {
        **settings.INFLUX,
        "URL": services["influx_url"],
        "DB": f"test_{uuid.uuid4().hex[:12]}",
    }
    client = get_client()
    client.ensure_database(retention=settings.INFLUX["RETENTION"])
    client.query(
        f"ALTER RETENTION POLICY {quote_ident(client.retention_policy or 'autogen')} "
        f"ON {quote_ident(client.database)} DURATION INF",
        method="POST",
    )
    yield client
    client.drop_database()
    reset_client()
