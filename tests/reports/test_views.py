"""The report pages and exports: who may see them, and that they agree with the figures."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse

from apps.reports.presentation import CSV_COLUMNS, figure_rows
from apps.reports.selectors import site_period_figures

from .conftest import previous_month_period


def test_anonymous_people_are_sent_to_log_in(client, demo_sites):
    for url in (
        reverse("reports:portfolio"),
        reverse("reports:site_month", args=["pool", "2026-10"]),
        reverse("reports:site_month_csv", args=["pool", "2026-10"]),
        reverse("reports:portfolio_csv", args=["2026-10"]),
        reverse("reports:site_month_pdf", args=["pool", "2026-10"]),
    ):
        response = client.get(url)
        assert response.status_code == 302, url
        assert "/accounts/login/" in response["Location"]


def test_a_site_the_person_may_not_see_is_not_found(client, pool_user, influx):
    client.force_login(pool_user)
    for url in (
        reverse("reports:site_month", args=["school", "2026-10"]),
        reverse("reports:site_month_csv", args=["school", "2026-10"]),
        reverse("reports:site_month_pdf", args=["school", "2026-10"]),
        reverse("reports:site_month", args=["no-such-site", "2026-10"]),
    ):
        assert client.get(url).status_code == 404, url
    response = client.post(reverse("reports:publish", args=["school", "2026-10"]))
    assert response.status_code == 404


def test_the_portfolio_lists_only_visible_sites_and_defaults_to_last_month(client, pool_user, influx):
    client.force_login(pool_user)
    before = previous_month_period("Europe/London", datetime.now(UTC)).label
    response = client.get(reverse("reports:portfolio"))
    after = previous_month_period("Europe/London", datetime.now(UTC)).label
    assert response.status_code == 200
    html = response.content.decode()
    assert "Northgate Leisure Pool" in html
    assert "St Aidan" not in html
    # last month by the pool's own clock (London), not UTC's: they differ an hour a day in summer
    assert response.context["month"] in {before, after}
    rows = response.context["rows"]
    assert [r["site"] for r in rows] == ["pool"]


def test_the_default_month_follows_the_sites_local_clocks(demo_sites):
    from apps.reports.selectors import default_month
    from tests.factories import make_site

    pool = demo_sites["pool"]  # Europe/London
    # 00:30 on 1 July in London is 23:30 on 30 June in UTC: June is over in London
    july_first = datetime(2027, 6, 30, 23, 30, tzinfo=UTC)
    assert default_month(sites=[pool], now=july_first) == (2027, 6)
    # with a New York site beside it, June is not over everywhere yet
    ny = make_site(name="Hudson Library", slug="hudson", timezone="America/New_York")
    assert default_month(sites=[pool, ny], now=july_first) == (2027, 5)
    assert default_month(sites=[pool, ny], now=july_first + timedelta(hours=5)) == (2027, 6)


def test_csv_figures_equal_the_computed_ones(client, pool_user, pool_october):
    pool, period, truth = pool_october
    [expected] = site_period_figures(sites=[pool], periods=[period])
    client.force_login(pool_user)
    response = client.get(reverse("reports:site_month_csv", args=["pool", period.label]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    [row] = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert list(row) == [c for c, _ in CSV_COLUMNS]
    for column, _meaning in CSV_COLUMNS:
        value = expected.get(column)
        if isinstance(value, bool):
            assert row[column] == str(value).lower(), column
        elif isinstance(value, float):
            assert float(row[column]) == pytest.approx(value, rel=1e-6, abs=1e-6), column
        elif value is None:
            assert row[column] == "", column
        else:
            assert row[column] == str(value), column
    # and they are right: 30 of 31 days of IT data (October in London has 745 hours)
    assert float(row["hours"]) == 745
    assert float(row["it_energy_kwh"]) == pytest.approx(truth["it"], rel=1e-3)
    assert float(row["it_energy_coverage"]) == pytest.approx(721 / 745, rel=1e-3)
    assert float(row["heat_delivered_kwh"]) == pytest.approx(truth["heat"], rel=1e-3)
    assert float(row["sla_compliance"]) == pytest.approx(truth["sla"], rel=1e-3)


def test_the_portfolio_csv_has_one_row_per_visible_site(client, pool_user, pool_october):
    _pool, period, _truth = pool_october
    client.force_login(pool_user)
    response = client.get(reverse("reports:portfolio_csv", args=[period.label]))
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [r["site"] for r in rows] == ["pool"]
    assert rows[0]["period"] == period.label


def test_the_report_page_shows_the_figures_with_their_coverage(client, pool_user, pool_october):
    pool, period, truth = pool_october
    [expected] = site_period_figures(sites=[pool], periods=[period])
    client.force_login(pool_user)
    response = client.get(reverse("reports:site_month", args=["pool", period.label]))
    assert response.status_code == 200
    html = response.content.decode()
    for row in figure_rows(expected):
        assert row["value"] in html, row["label"]
    assert "96.8 % of the time" in html  # IT data for 721 of 745 hours, shown as partial
    assert 'id="report-data"' in html and "chart-sla" in html
    assert "/static/vendor/plotly/plotly.min.js" in html
    assert "Publish now" not in html  # an estates person may not publish


def test_a_range_of_days_is_exported_too(client, pool_user, pool_october):
    _pool, period, _truth = pool_october
    first, eighth = period.start, period.start + timedelta(days=7)
    client.force_login(pool_user)
    url = reverse("reports:site_range_csv", args=["pool"])
    response = client.get(url, {"start": first.isoformat(), "end": eighth.isoformat()})
    [row] = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert row["period"] == f"{first.isoformat()} to {first.year:04d}-10-07"
    assert float(row["it_energy_kwh"]) == pytest.approx(7 * 12 * (40 + 55), rel=1e-3)
    assert float(row["revenue_capacity"]) == pytest.approx(4.50 * 60 * 7 / 31, rel=1e-6)
    assert client.get(url, {"start": eighth.isoformat(), "end": first.isoformat()}).status_code == 400


def test_a_snapshot_published_before_ratios_had_their_own_coverage_still_shows_one():
    """Published figures never change: older ones have one coverage for all the ratios."""
    older = {"pue": 1.3, "erf": 0.6, "ere": 0.5, "heat_recovery_ratio": 0.8, "ratios_coverage": 0.95}
    rows = {r["key"]: r for r in figure_rows(older)}
    for key in ("pue", "erf", "ere"):
        assert rows[key]["coverage"] == "95.0 % of the time" and rows[key]["partial"], key


def test_a_quarter_a_year_and_any_range_of_days_from_the_page(client, pool_user, pool_october):
    pool, period, truth = pool_october
    client.force_login(pool_user)
    month_page = client.get(reverse("reports:site_month", args=["pool", period.label])).content.decode()
    assert 'id="period-picker"' in month_page and 'id="range-picker"' in month_page
    year = period.start.year
    url = reverse("reports:site_period", args=["pool"])
    quarter = client.get(url, {"quarter": f"{year}-Q4"})
    assert quarter.status_code == 200
    q = quarter.context["fig"]
    assert (q["period_start"], q["period_end"]) == (f"{year}-10-01", f"{year + 1}-01-01")
    assert f"{year}-10-01 to {year}-12-31" in quarter.content.decode()
    # October is the quarter's only data: its energy, over a share of the quarter's time
    assert q["it_energy_kwh"] == pytest.approx(truth["it"], rel=1e-3)
    whole = client.get(url, {"year": str(year)}).context["fig"]
    assert (whole["period_start"], whole["period_end"]) == (f"{year}-01-01", f"{year + 1}-01-01")
    days = client.get(
        url, {"start": period.start.isoformat(), "end": (period.start + timedelta(days=7)).isoformat()}
    )
    assert days.status_code == 200 and days.context["fig"]["hours"] == 7 * 24
    assert client.get(url, {"quarter": "2026-Q5"}).status_code == 400
    assert client.get(reverse("reports:site_period", args=["school"]), {"year": "2026"}).status_code == 404
