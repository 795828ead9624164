"""The test suite. tests/conftest.py starts a real InfluxDB and Redis on free ports and
points INFLUX and the channel layer at them before any test runs."""

import os
import tempfile

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
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
ALLOWED_HOSTS = ["*"]
# Deliver each accepted batch before the response, so a test can read it back at once
# (tests/ingest covers the background writer separately).
HEATOPS_INGEST_WRITE_BEHIND = False
