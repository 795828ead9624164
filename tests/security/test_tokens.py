"""Tokens (site ingest tokens, personal API tokens) are never logged and never compared
character by character.

Comparison: a presented token is hashed (SHA-256) and the hash looked up in the database
index (``heatops/tokens.py``); no code compares the presented string with a stored one, so
how long an answer takes says nothing about how many leading characters are right. The
stored rows hold only the hash (and a short prefix to recognise the token in lists).

Logs: neither heatops' loggers (at DEBUG) nor Daphne's access log (method, path and query,
status, size; no headers) carry a token sent in ``Authorization``, valid or not. Tokens
are not taken from URLs (docs/ingest.md), which is what keeps them out of access logs,
except a calendar feed's, which calendar apps can send no other way: heatops.web's access
log masks it, and its 404s are not logged with their path.
"""

from __future__ import annotations

import base64
import contextlib
import io
import logging
import time

import httpx
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from apps.accounts.models import PersonalToken
from apps.accounts.services import personal_token_issue, personal_token_user
from apps.ingest.models import IngestToken
from apps.ingest.services import ingest_token_issue
from heatops.devstack import stack
from heatops.tokens import token_digest

pytestmark = pytest.mark.django_db


def test_tokens_are_stored_and_looked_up_by_their_hash_only(pool_user):
    _, raw = personal_token_issue(user=pool_user, name="laptop")
    fields = {f.name for f in PersonalToken._meta.fields} | {f.name for f in IngestToken._meta.fields}
    assert not fields & {"key", "token", "raw", "secret"}
    assert PersonalToken.objects.get().key_hash == token_digest(raw)
    # wrong at the first character of the secret or at the last: the same single lookup by hash

    def flip(c: str) -> str:
        return "A" if c != "A" else "B"

    for wrong in (raw[:6] + flip(raw[6]) + raw[7:], raw[:-1] + flip(raw[-1])):
        with CaptureQueriesContext(connection) as queries:
            assert personal_token_user(raw=wrong) is None
        assert len(queries) == 1
        sql = queries[0]["sql"]
        assert token_digest(wrong) in sql and wrong not in sql


def _requests(
    ingest_token: str, api_token: str, feed_token: str = "hcal_x", rotation: int = 1
) -> list[tuple[str, str, dict]]:
    """(method, path, headers) with each token, right and wrong, in each form it is taken
    (a calendar feed's in its path: calendar apps send no header)."""
    basic = base64.b64encode(f"telegraf:{ingest_token}".encode()).decode()
    return [
        ("GET", f"/on-call/{rotation}/feed/{feed_token}.ics", {}),
        ("GET", f"/on-call/{rotation}/feed/{feed_token}x.ics", {}),  # 404, as for a revoked one
        ("GET", f"/on-call/{rotation + 1}/feed/{feed_token}.ics", {}),  # not its person's: 404
        ("POST", "/ingest/pool/write?precision=s", {"Authorization": f"Token {ingest_token}"}),
        ("POST", "/ingest/pool/write?precision=s", {"Authorization": f"Basic {basic}"}),
        ("POST", "/ingest/pool/write?precision=s", {"Authorization": f"Bearer {ingest_token}x"}),
        ("POST", "/ingest/school/write?precision=s", {"Authorization": f"Token {ingest_token}"}),  # 403
        ("GET", "/api/alarms/", {"Authorization": f"Token {api_token}"}),
        ("GET", "/api/alarms/", {"Authorization": f"Token {api_token}x"}),
        ("POST", "/api/alarms/999/ack/", {"Authorization": f"Bearer {api_token}"}),
    ]


FEED = """
import datetime
from django.contrib.auth import get_user_model
from apps.ownership.models import Rotation, RotationMember, Team
from apps.ownership.rotations import calendar_feed_issue
user = get_user_model().objects.get(username="{username}")
team = Team.objects.create(name="DevOps")
rotation = Rotation.objects.create(team=team, name="DevOps weekly", handover_time=datetime.time(9),
    starts_on=datetime.date(2026, 1, 5))
RotationMember.objects.create(rotation=rotation, user=user)
print(rotation.pk, calendar_feed_issue(user=user, now=datetime.datetime.fromisoformat("{now}"))[1])
"""


def _feed(run, username: str, now) -> tuple[int, str]:
    """A rotation with ``username`` on it, and their calendar feed token."""
    pk, token = run(FEED.format(username=username, now=now.isoformat())).split()
    return int(pk), token


def _in_process(code: str) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(code, {})  # the same lines the stack's Django shell runs
    return out.getvalue().strip()


def test_no_token_reaches_heatops_logs(client, pool_user, demo_sites, influx, caplog, now):
    _, ingest_token = ingest_token_issue(site=demo_sites["pool"], name="agent")
    _, api_token = personal_token_issue(user=pool_user, name="bot")
    rotation, feed_token = _feed(_in_process, pool_user.username, now)
    caplog.set_level(logging.DEBUG)
    line = f"rack,site=pool,asset=a power_kw=1 {int(time.time())}"
    for method, path, headers in _requests(ingest_token, api_token, feed_token, rotation):
        response = client.generic(method, path, data=line, content_type="text/plain", headers=headers)
        assert response.status_code < 500, (path, response.status_code)
    logged = "\n".join(f"{r.getMessage()} {r.args!r} {getattr(r, 'request', '')!r}" for r in caplog.records)
    assert caplog.records  # the refusals were logged (as warnings), without the tokens
    for token in (ingest_token, api_token, feed_token):
        assert token not in logged
        assert token[len("hops_") + 6 :] not in logged  # not even the secret part of it


def test_no_token_reaches_daphnes_access_log_or_its_error_log(services, tmp_path, now):
    with stack(
        web=False,
        influx_url=services["influx_url"],
        redis_url=services["redis_url"],
        database="tokens_logs",
        extra_env={"LOG_LEVEL": "DEBUG"},
    ) as s:
        ingest_token = s.django_shell(
            "from apps.ingest.services import ingest_token_issue\n"
            "from apps.sites.models import Site\n"
            "print(ingest_token_issue(site=Site.objects.get(slug='pool'), name='agent')[1])"
        )
        api_token = s.django_shell(
            "from django.contrib.auth import get_user_model\n"
            "from apps.accounts.services import personal_token_issue\n"
            "print(personal_token_issue(user=get_user_model().objects.get(username='admin'), name='bot')[1])"
        )
        rotation, feed_token = _feed(s.django_shell, "admin", now)
        access_log = s.root / "access.log"
        url = s.serve(
            "heatops.asgi:application",
            "daphne",
            ready_path="/ingest/pool/ping",
            daphne_args=("--access-log", str(access_log)),
        )
        line = f"rack,site=pool,asset=a power_kw=1 {int(time.time())}"
        with httpx.Client(base_url=url, timeout=10) as http:
            for method, path, headers in _requests(ingest_token, api_token, feed_token, rotation):
                response = http.request(method, path, content=line, headers=headers)
                assert response.status_code < 500, (path, response.status_code)
            assert http.get(f"/on-call/{rotation}/feed/{feed_token}.ics").text.startswith("BEGIN:VCALENDAR")
        deadline = time.monotonic() + 10
        while access_log.read_text().count("\n") < len(_requests("", "")) and time.monotonic() < deadline:
            time.sleep(0.1)
        written = access_log.read_text() + (s.root / "daphne.log").read_text()
        assert reverse("alarms:api_alarm_list") in access_log.read_text()  # the log is written
        assert f"/on-call/{rotation}/feed/hcal_….ics" in access_log.read_text()  # the feed token masked
        for token in (ingest_token, api_token, feed_token):
            assert token not in written
