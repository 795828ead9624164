"""The ingest endpoint's lean ASGI route, served by a real Daphne as in production: it
answers what Django's view would answer, and forgets a token the moment it is revoked
or its site deactivated in another process (here: a management shell)."""

from __future__ import annotations

import gzip
import time

import httpx
import pytest

from apps.telemetry.influx.client import InfluxClient
from heatops.devstack import stack


@pytest.fixture(scope="module")
def served(services):
    with stack(
        web=False,
        influx_url=services["influx_url"],
        redis_url=services["redis_url"],
        database="fastpath",
        extra_env={"HEATOPS_INGEST_WRITE_BEHIND": "1"},
    ) as s:
        s.web_url = s.serve("heatops.asgi:application", "daphne", ready_path="/ingest/pool/ping")
        yield s


def _issue(s) -> str:
    return s.django_shell(
        "from apps.ingest.services import ingest_token_issue\n"
        "from apps.sites.models import Site\n"
        "print(ingest_token_issue(site=Site.objects.get(slug='pool'), name='agent')[1])"
    )


def _power(s, asset: str) -> list[float]:
    reader = InfluxClient(url=s.influx_url, database=s.database, retention_policy="heatops")
    series = reader.select(f"SELECT power_kw FROM rack WHERE \"asset\" = '{asset}'")
    return [row[1] for row in series[0].values] if series else []


def _wait_for(check, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not check() and time.monotonic() < deadline:
        time.sleep(0.05)


def test_batches_are_stored_and_refusals_answered_as_by_the_view(served):
    s, t = served, int(time.time()) - 60
    token = _issue(s)
    with httpx.Client(base_url=s.web_url, timeout=10, headers={"Authorization": f"Token {token}"}) as http:
        for i in range(3):  # the first is checked in the database, the others taken from memory
            body = f"rack,asset=fp-a,site=pool power_kw={i}.5 {t + i}"
            assert http.post("/ingest/pool/write?precision=s", content=body).status_code == 204
        gz = gzip.compress(f"rack,asset=fp-a,site=pool power_kw=3.5 {t + 3}".encode())
        response = http.post("/write?precision=s", content=gz, headers={"Content-Encoding": "gzip"})
        assert response.status_code == 204
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert "default-src 'self'" in response.headers["Content-Security-Policy"]

        bad = http.post(
            "/ingest/pool/write?precision=s",
            content=f"rack,asset=fp-a,site=pool power_kw=4.5 {t + 4}\nrack,asset=fp-a,site=pool power_kw=1e999 {t + 5}",
        )
        assert bad.status_code == 400 and bad.json()["accepted"] == 1
        assert bad.json()["rejected"][0]["line"] == 2 and "double" in bad.json()["rejected"][0]["reason"]
        other_site = http.post(
            "/ingest/school/write?precision=s", content=f"rack,asset=x,site=school power_kw=1 {t}"
        )
        assert other_site.status_code == 403
        assert http.post("/ingest/pool/write?precision=x", content=body).status_code == 400
        assert (
            http.post("/ingest/pool/write", content=f"rack,asset=fp-a,site=pool power_kw=1 {t}").status_code
            == 400
        )
    anonymous = httpx.post(f"{s.web_url}/ingest/pool/write?precision=s", content=body)
    assert anonymous.status_code == 401
    _wait_for(lambda: _power(s, "fp-a") == [0.5, 1.5, 2.5, 3.5, 4.5])
    assert _power(s, "fp-a") == [0.5, 1.5, 2.5, 3.5, 4.5]


def test_a_token_revoked_or_a_site_deactivated_in_another_process_is_refused_at_once(served):
    s, t = served, int(time.time()) - 60
    token = _issue(s)
    with httpx.Client(base_url=s.web_url, timeout=10, headers={"Authorization": f"Token {token}"}) as http:
        for i in range(2):
            body = f"rack,asset=fp-b,site=pool power_kw={i} {t + i}"
            assert http.post("/ingest/pool/write?precision=s", content=body).status_code == 204
        s.django_shell(
            "from apps.ingest.models import IngestToken\n"
            "from apps.ingest.services import ingest_token_revoke\n"
            "ingest_token_revoke(token=IngestToken.objects.order_by('-pk').first())"
        )
        revoked = http.post(
            "/ingest/pool/write?precision=s", content=f"rack,asset=fp-b,site=pool power_kw=9 {t + 2}"
        )
        assert revoked.status_code == 401 and "revoked" in revoked.json()["error"]

    token = _issue(s)
    with httpx.Client(base_url=s.web_url, timeout=10, headers={"Authorization": f"Token {token}"}) as http:
        body = f"rack,asset=fp-b,site=pool power_kw=3 {t + 3}"
        assert http.post("/write?precision=s", content=body).status_code == 204
        assert http.post("/write?precision=s", content=body).status_code == 204
        s.django_shell(
            "from apps.sites.models import Site\n"
            "site = Site.objects.get(slug='pool'); site.is_active = False; site.save()"
        )
        try:
            deactivated = http.post(
                "/write?precision=s", content=f"rack,asset=fp-b,site=pool power_kw=9 {t + 4}"
            )
            assert deactivated.status_code == 403 and "deactivated" in deactivated.json()["error"]
        finally:
            s.django_shell(
                "from apps.sites.models import Site\n"
                "site = Site.objects.get(slug='pool'); site.is_active = True; site.save()"
            )
    _wait_for(lambda: _power(s, "fp-b") == [0.0, 1.0, 3.0])
    assert _power(s, "fp-b") == [0.0, 1.0, 3.0]
