"""The test suite. tests/conftest.py starts a real InfluxDB and Redis on free ports and
points INFLUX and the channel layer at them before any test runs."""

from .base import *  # noqa: F403

DEBUG = False
SECRET_KEY = "test-only-key"
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CELERY_TASK_ALWAYS_EAGER = True
ALLOWED_HOSTS = ["*"]
# Deliver each accepted batch before the response, so a test can read it back at once
# (tests/ingest covers the background writer separately).
HEATOPS_INGEST_WRITE_BEHIND = False
