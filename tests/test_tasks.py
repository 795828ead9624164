"""Every Celery task of the apps is declared with ``heatops.tasking.task``: retries and
backoff are set in one place."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings


def test_no_app_declares_a_task_with_celery_directly():
    apps = Path(settings.BASE_DIR) / "apps"
    direct = [
        str(path.relative_to(apps.parent))
        for path in sorted(apps.rglob("*.py"))
        if "shared_task" in path.read_text(encoding="utf-8")
        or "autoretry_for" in path.read_text(encoding="utf-8")
    ]
    assert direct == []
