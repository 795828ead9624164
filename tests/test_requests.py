"""Requests as clients get them wrong: an oversize body is the client's mistake."""

import logging

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
