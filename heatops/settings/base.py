"""Settings shared by every environment. Everything that differs between machines comes
from the environment (see README, 'Configuration'); dev, test and prod only adjust."""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
import plotly
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(os.environ.get("HEATOPS_VAR", BASE_DIR / "var"))


def env(name: str, default: str | None = None) -> str:
    value = os.environ.get(name, default)
    if value is None:
        raise ImproperlyConfigured(f"Set the environment variable {name} (see README, 'Configuration')")
    return value


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env(name, default).split(",") if item.strip()]


def env_bool(name: str, default: bool = False) -> bool:
    return env(name, "1" if default else "0").strip().lower() in {"1", "true", "yes", "on"}


SECRET_KEY = os.environ.get("SECRET_KEY", "")
DEBUG = False
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "daphne",
    "heatops.apps.HeatopsAdminConfig",  # django.contrib.admin, every admin scoped to the person's sites
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "django_htmx",
    # heatops' apps in their layer order (docs/architecture.md): each imports only those above it here
    "apps.telemetry",
    "apps.sites",
    "apps.accounts",
    "apps.audit",
    "apps.assets",
    "apps.ownership",
    "apps.runbooks",
    "apps.alarms",
    "apps.incidents",
    "apps.maintenance",
    "apps.reports",
    "apps.dashboard",
    "apps.ingest",
    "apps.simulator",
    "apps.business",
    "apps.drills",
    "apps.demo",
]

MIDDLEWARE = [
    "heatops.middleware.RequestSizeLimitMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "heatops.middleware.SecurityHeadersMiddleware",  # Content-Security-Policy
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "heatops.urls"
ASGI_APPLICATION = "heatops.asgi.application"
WSGI_APPLICATION = None

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "apps.accounts.context_processors.visible_sites",
                "apps.dashboard.context_processors.live",
            ],
        },
    },
]

# No persistent connections (CONN_MAX_AGE 0), as Django advises under ASGI: its handler runs
# each request's database work in a thread of its own, and connections kept for reuse
# there would pile up on PostgreSQL (one server process each) until max_connections.
DATABASES = {
    "default": dj_database_url.parse(env("DATABASE_URL", f"sqlite:///{VAR_DIR / 'heatops.sqlite3'}"))
}
# SQLite (the embedded default) is shared by the web server, the pump, Celery and the
# simulator: WAL lets readers and a writer work at once, IMMEDIATE transactions take the
# write lock up front (no "database is locked" when a read turns into a write), and a
# writer waits up to 20 s for another.
SQLITE_OPTIONS = {
    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    "transaction_mode": "IMMEDIATE",
    "timeout": 20,
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {}).update(SQLITE_OPTIONS)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "dashboard:portfolio"
LOGOUT_REDIRECT_URL = "accounts:login"

LANGUAGE_CODE = "en-gb"
TIME_ZONE = env("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# Plotly.js comes from the installed plotly package, never from a CDN.
STATICFILES_DIRS = [BASE_DIR / "static", ("vendor/plotly", Path(plotly.__file__).parent / "package_data")]
STATIC_ROOT = Path(env("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
# Daphne serves /static/ itself (from the finders) unless a reverse proxy does it.
HEATOPS_SERVE_STATIC = env_bool("HEATOPS_SERVE_STATIC", True)

# --- InfluxDB (v1 HTTP API; see docs/telemetry.md) ---------------------------------------
INFLUX = {
    "URL": env("INFLUX_URL", "http://127.0.0.1:8086"),
    "DB": env("INFLUX_DB", "heatops"),
    "USERNAME": env("INFLUX_USERNAME", ""),
    "PASSWORD": env("INFLUX_PASSWORD", ""),
    "TIMEOUT": float(env("INFLUX_TIMEOUT", "5")),
    "RETENTION_POLICY": env("INFLUX_RETENTION_POLICY", "heatops"),
    "RETENTION": env("INFLUX_RETENTION", "400d"),
}

# --- Live dashboards (docs/live.md) ----------------------------------------------------
# The telemetry pump reads InfluxDB once per tick for all sites and publishes what changed.
HEATOPS_PUMP_TICK_S = float(env("HEATOPS_PUMP_TICK_S", "0.5"))
# a commissioning drill's pause between scenarios, for the plant to recover (docs/drills.md)
HEATOPS_DRILL_SETTLE_S = int(env("HEATOPS_DRILL_SETTLE_S", "120"))
HEATOPS_PUMP_LOOKBACK = env("HEATOPS_PUMP_LOOKBACK", "60s")  # how late a point may arrive and still show
HEATOPS_PUMP_SEED_LOOKBACK = env("HEATOPS_PUMP_SEED_LOOKBACK", "7d")  # first read after a start
# Redis holds at most this many bytes of ingested batches waiting for the pump (oldest dropped)
HEATOPS_PUSH_MAX_BYTES = int(env("HEATOPS_PUSH_MAX_BYTES", str(16 * 1024 * 1024)))
# Points read per series: on each tick (so fields written in points of their own within
# one tick are all seen), and on the first read after a start.
HEATOPS_PUMP_POINTS = int(env("HEATOPS_PUMP_POINTS", "3"))
HEATOPS_PUMP_SEED_POINTS = int(env("HEATOPS_PUMP_SEED_POINTS", "20"))
# The module listing what the pump calls after each read and after pushed points, in order.
HEATOPS_PUMP_PIPELINE = "heatops.pipeline"
# InfluxDB unreachable this long (seconds): every active site gets a critical alarm.
HEATOPS_INFLUX_DOWN_ALARM_S = float(env("HEATOPS_INFLUX_DOWN_ALARM_S", "60"))
HEATOPS_STALE_AFTER_S = float(env("HEATOPS_STALE_AFTER_S", "30"))  # no new point for longer: stale

# --- Ingest endpoint (docs/ingest.md) -------------------------------------------------
HEATOPS_INGEST_MAX_BYTES = int(env("HEATOPS_INGEST_MAX_BYTES", str(5 * 1024 * 1024)))
HEATOPS_INGEST_MAX_FUTURE_S = float(env("HEATOPS_INGEST_MAX_FUTURE_S", "600"))
HEATOPS_SPOOL_DIR = Path(env("HEATOPS_SPOOL_DIR", str(VAR_DIR / "spool")))
HEATOPS_SPOOL_MAX_BYTES = int(env("HEATOPS_SPOOL_MAX_BYTES", str(1024 * 1024 * 1024)))
# Answer agents once a batch is safe on disk and deliver it from a background thread.
HEATOPS_INGEST_WRITE_BEHIND = env_bool("HEATOPS_INGEST_WRITE_BEHIND", True)

# --- Redis: channel layer and Celery broker -------------------------------------------
REDIS_URL = env("REDIS_URL", "redis://127.0.0.1:6379/0")
# redis-py 8 gives every socket a 5 s read timeout by default, which is exactly how long
# channels_redis blocks waiting for a message: an idle websocket then dies with a
# TimeoutError. A longer socket timeout keeps idle consumers alive. Its async pool also
# refuses (rather than waits) past max_connections, 100 by default: a hundred wall screens
# reconnecting at once after a restart would get errors.
CHANNEL_LAYER_HOST = {"address": REDIS_URL, "socket_timeout": 30, "max_connections": 1000}
CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {"hosts": [CHANNEL_LAYER_HOST]},
    }
}
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "heatops",
    }
}
CELERY_BROKER_URL = env("CELERY_BROKER_URL", REDIS_URL)
CELERY_RESULT_BACKEND = env("CELERY_RESULT_BACKEND", REDIS_URL)
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Alarm notifications and escalations have their own queue, and reports theirs, each with a
# worker of its own (Procfile, deploy/systemd/heatops-worker@.service): a PDF being printed
# never delays a page. Everything else goes to the default queue, "celery".
CELERY_TASK_ROUTES = {"alarms.*": {"queue": "alarms"}, "reports.*": {"queue": "reports"}}
# Where people reach heatops, for links in emails, webhooks and the API: by default where
# deploy/run serves it (HEATOPS_BIND, HEATOPS_PORT); set it behind a proxy.
_bind = env("HEATOPS_BIND", "127.0.0.1")
HEATOPS_BASE_URL = env(
    "HEATOPS_BASE_URL",
    f"http://{'localhost' if _bind in ('', '0.0.0.0', '::') else _bind}:{env('HEATOPS_PORT', '8000')}",
).rstrip("/")
# Webhooks (apps/alarms/webhooks.py) go to public addresses on these ports only; hosts
# listed here (names or IP literals, e.g. a chat bridge on the LAN) may be anywhere.
HEATOPS_WEBHOOK_PORTS = [int(p) for p in env_list("HEATOPS_WEBHOOK_PORTS", "80,443")]
HEATOPS_WEBHOOK_ALLOW_HOSTS = env_list("HEATOPS_WEBHOOK_ALLOW_HOSTS", "")
# Log-in throttling (apps/accounts/throttle.py): failures allowed per account and per
# address within the lockout time, then refused for that long.
HEATOPS_LOGIN_MAX_FAILURES = int(env("HEATOPS_LOGIN_MAX_FAILURES", "5"))
HEATOPS_LOGIN_MAX_FAILURES_PER_ADDRESS = int(env("HEATOPS_LOGIN_MAX_FAILURES_PER_ADDRESS", "20"))
HEATOPS_LOGIN_LOCKOUT_S = int(env("HEATOPS_LOGIN_LOCKOUT_S", "900"))
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "heatops <heatops@localhost>")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.channels.server": {"level": "WARNING"},
        "httpx": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
    },
}
