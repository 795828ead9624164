"""The test suite. tests/conftest.py starts a real InfluxDB and Redis on free ports and
points INFLUX and the channel layer at them before any test runs.

The database is SQLite unless HEATOPS_TEST_DB=postgres (``deploy/test --db postgres``):
then tests/conftest.py starts a PostgreSQL of its own and fills in where it listens
before Django connects, or uses the server of HEATOPS_TEST_DATABASE_URL."""

import os
import tempfile

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import SQLITE_OPTIONS

DEBUG = False
SECRET_KEY = "test-only-key"
# A file on tmpfs rather than ":memory:": in-memory SQLite shared between threads has
# table locks that fail at once instead of waiting, and the concurrency tests need waiting.
_SHM = "/dev/shm" if os.path.isdir("/dev/shm") else tempfile.gettempdir()
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.path.join(_SHM, f"heatops-test-{os.getpid()}.sqlite3"),
        "TEST": {"NAME": os.path.join(_SHM, f"heatops-test-{os.getpid()}.sqlite3")},
        "OPTIONS": SQLITE_OPTIONS,
    }
}
TEST_DB = os.environ.get("HEATOPS_TEST_DB", "sqlite")
if os.environ.get("HEATOPS_TEST_DATABASE_URL"):
    DATABASES = {"default": dj_database_url.parse(os.environ["HEATOPS_TEST_DATABASE_URL"])}
    if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
        DATABASES["default"]["OPTIONS"] = SQLITE_OPTIONS
elif TEST_DB == "postgres":
    # HOST, PORT, USER and PASSWORD come from the server tests/conftest.py starts;
    # pytest-django creates and drops the test database ("test_heatops") on it.
    DATABASES = {"default": {"ENGINE": "django.db.backends.postgresql", "NAME": "heatops", "HOST": ""}}
elif TEST_DB != "sqlite":
    raise ImproperlyConfigured(f"HEATOPS_TEST_DB is 'sqlite' or 'postgres', not {TEST_DB!r}")
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
ALLOWED_HOSTS = ["*"]
# Deliver each accepted batch before the response, so a test can read it back at once
# (tests/ingest covers the background writer separately).
HEATOPS_INGEST_WRITE_BEHIND = False
