"""When InfluxDB refuses a query, the browser is told so in plain words; the InfluxQL
statement goes to the log, never into the page or the JSON (real InfluxDB, asked for a
database it does not have)."""

import logging

import pytest
from django.urls import reverse

from apps.telemetry.influx.client import get_client, reset_client
from apps.telemetry.influx.errors import InfluxQueryError

pytestmark = pytest.mark.django_db


@pytest.fixture
def missing_database(services, settings):
    settings.INFLUX = {**settings.INFLUX, "URL": services["influx_url"], "DB": "no_such_database"}
    reset_client()
    yield get_client()
    reset_client()


def test_a_refused_query_says_why_without_the_statement(missing_database, caplog):
    statement = 'SELECT "it_power_kw" FROM "facility" WHERE "site" = \'pool\''
    with caplog.at_level(logging.WARNING), pytest.raises(InfluxQueryError) as info:
        missing_database.query(statement)
    assert "database not found" in str(info.value) and "SELECT" not in str(info.value)
    assert info.value.statement == statement
    assert any(statement in r.getMessage() for r in caplog.records)


def test_the_pages_show_a_plain_message_and_log_the_statement(client, pool_user, missing_database, caplog):
    client.force_login(pool_user)
    with caplog.at_level(logging.WARNING):
        history = client.get(reverse("dashboard:site_history", args=["pool"]), {"range": "24h"})
        capacity = client.get(reverse("dashboard:site_capacity", args=["pool"]))
    assert history.status_code == 503
    assert history.json() == {
        "error": "InfluxDB did not answer this query; the details are in the server's log."
    }
    page = capacity.content.decode()
    assert "did not answer" in page
    for text in (history.content.decode(), page):
        assert "SELECT" not in text and "no_such_database" not in text
    assert any("SELECT" in r.getMessage() for r in caplog.records)  # for whoever runs the server
