"""The REST API and malformed credentials: each one a 401 with a reason, never a 500."""

from __future__ import annotations

import base64
import logging

import pytest
from django.urls import reverse

from apps.accounts.services import PREFIX, personal_token_issue

pytestmark = pytest.mark.django_db

MALFORMED = [
    "Basic",
    "Basic ",
    "Basic !!!!",
    "Basic ééé",
    "Basic " + base64.b64encode(b"\xff\xfe:x").decode(),
    "Basic " + base64.b64encode(b"no-colon").decode(),
    "Basic " + base64.b64encode(b"user:hops_p_x").decode(),
    "Token",
    "Token ",
    "Token  ",
    "Bearer " + PREFIX + "\x00",
    "Token " + PREFIX + "\x00",
    "Token " + PREFIX + "" + "ü" * 10,
    "Token ü",
    "Token \udcff",
    "Token " + PREFIX + "\udcff",
    "Token " + PREFIX + "é\udcff",
    "Digest username=x",
    PREFIX + "raw-token-without-scheme",
    " ",
    "\x00",
    "Token " + "A" * 10_000,
    "Token " + PREFIX + "" + "A" * 100_000,
    "Token " + PREFIX + "" + "x" * 43 + " trailing",
]


@pytest.fixture
def owner(pool_user):
    return pool_user


@pytest.mark.parametrize("header", MALFORMED)
@pytest.mark.parametrize("endpoint", ["list", "ack"])
def test_a_malformed_authorization_header_is_a_401_with_a_reason(client, owner, header, endpoint, caplog):
    personal_token_issue(user=owner, name="laptop")
    caplog.set_level(logging.INFO)
    if endpoint == "list":
        response = client.get(reverse("alarms:api_alarm_list"), headers={"Authorization": header})
    else:
        response = client.post(
            reverse("alarms:api_alarm_ack", args=[1]),
            data="{}",
            content_type="application/json",
            headers={"Authorization": header},
        )
    assert response.status_code == 401
    assert response["Content-Type"] == "application/json"
    assert "token" in response.json()["error"].lower()
    assert response["WWW-Authenticate"].startswith("Token")
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_an_unknown_token_and_a_missing_header_say_so(client, owner):
    url = reverse("alarms:api_alarm_list")
    missing = client.get(url)
    assert missing.status_code == 401 and "no Authorization header" in missing.json()["error"]
    unknown = client.get(url, headers={"Authorization": "Token " + PREFIX + "" + "x" * 43})
    assert unknown.status_code == 401 and "unknown or revoked" in unknown.json()["error"]


def test_a_good_token_still_works_with_either_scheme(client, owner):
    _, raw = personal_token_issue(user=owner, name="laptop")
    for scheme in ("Token", "Bearer", "token"):
        response = client.get(reverse("alarms:api_alarm_list"), headers={"Authorization": f"{scheme} {raw}"})
        assert response.status_code == 200, scheme


@pytest.mark.parametrize("raw", [b"Token " + PREFIX.encode() + b"\xe9\xff\xfe", b"\xff\xfe", b"Bearer \x80"])
def test_non_ascii_bytes_over_real_http_are_a_401(live_server, owner, raw, caplog):
    """Over HTTP a header is bytes; Daphne hands them to Django as latin-1."""
    import httpx

    caplog.set_level(logging.INFO)
    response = httpx.get(live_server.url + reverse("alarms:api_alarm_list"), headers={"Authorization": raw})
    assert response.status_code == 401 and "token" in response.json()["error"].lower()
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
