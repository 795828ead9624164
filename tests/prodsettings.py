"""Running manage.py with the production settings, as a deployment's environment sets them."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def prod_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The least environment the prod settings start with, data under ``tmp_path``."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "heatops.settings.prod",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "heatops.example",
        "HEATOPS_VAR": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        **extra,
    }


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
