"""Requests as clients get them wrong: an oversize body is the client's mistake."""

import logging
import os
import subprocess
import sys

import pytest
from django.contrib.staticfiles import finders


@pytest.mark.django_db
def test_a_body_over_the_form_limit_is_a_413_logged_as_a_warning(client, settings, caplog):
    too_big = "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)
    with caplog.at_level(logging.INFO):
        response = client.post(
            "/accounts/login/", data=too_big, content_type="text/plain", HTTP_ACCEPT="text/html"
        )
    assert response.status_code == 413
    assert "heatops takes at most" in response.content.decode()
    assert [r.levelname for r in caplog.records if "over the limit" in r.getMessage()] == ["WARNING"]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    api = client.post("/api/alarms/", data=too_big, content_type="application/json")
    assert api.status_code == 413 and "at most" in api.json()["error"]


@pytest.mark.django_db
def test_the_favicon_browsers_ask_for_is_there(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301 and response["Location"] == "/static/favicon.svg"
    assert "<svg" in open(finders.find("favicon.svg")).read()


def test_links_follow_the_port_heatops_is_served_on(tmp_path):
    """Alarm emails and webhooks link to where deploy/run serves heatops, not a fixed port."""

    def base_url(**env):
        base = {
            k: v
            for k, v in os.environ.items()
            if k not in {"HEATOPS_BASE_URL", "HEATOPS_BIND", "HEATOPS_PORT"}
        }
        code = "import django; django.setup(); from django.conf import settings; print(settings.HEATOPS_BASE_URL)"
        done = subprocess.run(
            [sys.executable, "-c", code],
            env={
                **base,
                "DJANGO_SETTINGS_MODULE": "heatops.settings.dev",
                "HEATOPS_VAR": str(tmp_path),
                **env,
            },
            capture_output=True,
            text=True,
            check=True,
        )
        return done.stdout.strip()

    assert base_url(HEATOPS_PORT="8123") == "http://127.0.0.1:8123"
    assert base_url(HEATOPS_BIND="0.0.0.0", HEATOPS_PORT="9000") == "http://localhost:9000"
    assert base_url(HEATOPS_BASE_URL="https://heat.example.org/") == "https://heat.example.org"


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/", "/alarms/", "/incidents/", "/reports/"])
def test_every_live_page_has_the_place_the_influxdb_banner_goes(admin_client, path):
    """The live sockets send the InfluxDB banner to every page as an out-of-band swap; a
    page without its place logs htmx:oobErrorNoTarget and never shows the banner."""
    page = admin_client.get(path).content.decode()
    assert page.count('id="system-banner"') == 1
