"""How a report reads: a month in progress judged against the time elapsed, months without
data showing no figures, alarm response counted as the incident page counts it, and the PDF
as an operations appendix (a summary in words first, page numbers, its version, no empty
half pages)."""

from __future__ import annotations

import csv
import io
import re
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
from django.urls import reverse

from apps.alarms.choices import AlarmState, Domain, RuleKind, Severity
from apps.alarms.models import Alarm, AlarmRule
from apps.incidents.models import Incident
from apps.incidents.services import incident_times
from apps.reports.periods import local_today, month_period
from apps.reports.selectors import site_report
from apps.reports.services import report_pdf

from .conftest import series
from .test_pdf import pdf_text

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"


@pytest.fixture
def month_so_far(influx, contract_site, now):
    """The month running at ``now`` at the baths (London), written from its start to
    ``now`` (every 10 minutes, or every minute in its first 6 hours): IT 40 kW, heat 10 kW
    steady, nothing after ``now``."""
    today = local_today(contract_site.timezone, now)
    period = month_period(contract_site.timezone, today.year, today.month)
    start = period.start_utc
    step = timedelta(minutes=10) if now - start > timedelta(hours=6) else timedelta(minutes=1)
    tags = {"site": contract_site.slug}
    series(
        influx, "facility", tags, start, now, step, lambda t: {"it_power_kw": 40.0, "total_power_kw": 44.0}
    )
    hours = lambda t: (t - start) / timedelta(hours=1)  # noqa: E731
    series(
        influx,
        "heat_meter",
        {**tags, "asset": "meter-1"},
        start,
        now + timedelta(seconds=1),
        step,
        lambda t: {"power_kw": 10.0, "energy_kwh": 10.0 * hours(t), "supply_temp_c": 50.0},
    )
    series(influx, "consumer", tags, start, now, step, lambda t: {"demand_kw": 8.0})
    return contract_site, period


def test_a_month_in_progress_is_judged_against_the_time_elapsed(client, month_so_far, now, admin_user):
    site, period = month_so_far
    elapsed_h = (now - period.start_utc) / timedelta(hours=1)
    report = site_report(site=site, period=period, now=now)
    fig = report.figures
    assert fig["in_progress"] is True and fig["hours"] == pytest.approx(period.hours)
    assert fig["hours_elapsed"] == pytest.approx(elapsed_h, abs=1e-3)
    # coverage over the time elapsed: the hours to come are not missing data
    if elapsed_h >= 1:
        assert fig["it_energy_coverage"] > 0.95
    # the contract's minimum (5000 kWh a month, about 6.7 kW) pro-rated to the time elapsed
    due = 5000 * period.months * elapsed_h / period.hours
    assert fig["min_heat_kwh"] == pytest.approx(due, rel=1e-6)
    assert fig["min_heat_met"] is (fig["heat_delivered_kwh"] >= due)
    assert fig["revenue_capacity"] == pytest.approx(4.0 * 50 * elapsed_h / period.hours, rel=1e-6)

    client.force_login(admin_user)
    html = client.get(reverse("reports:site_month", args=[site.slug, period.label])).content.decode()
    assert "This period is in progress" in html
    if elapsed_h > 0.1:  # (a reading or two into the month, nothing is delivered yet)
        assert "✔ on track" in html  # 10 kW delivered against 6.7 kW due
    assert "not met" not in html
    # a contract that asks for more is behind by the heat short of what is due by now
    site.min_monthly_heat_kwh = 20000
    site.save()
    fig = site_report(site=site, period=period, now=now).figures
    short = 20000 * elapsed_h / period.hours - fig["heat_delivered_kwh"]
    assert fig["min_heat_shortfall_kwh"] == pytest.approx(short, rel=1e-6)
    html = client.get(reverse("reports:site_month", args=[site.slug, period.label])).content.decode()
    assert re.search(r"✕ behind by [\d,.]+ kWh", html)
    [row] = csv.DictReader(
        io.StringIO(
            client.get(reverse("reports:site_month_csv", args=[site.slug, period.label])).content.decode()
        )
    )
    assert row["in_progress"] == "true" and float(row["min_heat_shortfall_kwh"]) > 0


def test_a_month_without_data_shows_no_figures(client, contract_site, influx, now, admin_user):
    """The comparison columns (and the month itself) show a dash and 'no data', never the
    contract's capacity charge for a month nothing was measured in."""
    today = local_today(contract_site.timezone, now)
    period = month_period(contract_site.timezone, today.year - 3, today.month)  # long before any data
    report = site_report(site=contract_site, period=period, now=now)
    assert report.figures["has_data"] is False
    assert report.figures["revenue_total"] is None and report.figures["revenue_capacity"] is None
    for other in report.compare.values():
        assert other["has_data"] is False and other["revenue_total"] is None
    client.force_login(admin_user)
    html = client.get(reverse("reports:site_month", args=[contract_site.slug, period.label])).content.decode()
    compare = html.split('id="compare"', 1)[1].split("</table>", 1)[0]
    assert "GBP" not in compare and compare.count("no data") == 3
    assert "GBP" not in html.split('id="summary"', 1)[1].split("</section>", 1)[0]
    [row] = csv.DictReader(
        io.StringIO(
            client.get(
                reverse("reports:site_month_csv", args=[contract_site.slug, period.label])
            ).content.decode()
        )
    )
    assert row["has_data"] == "false" and row["revenue_total"] == "" and row["revenue_capacity"] == ""


def test_response_times_count_the_alarms_never_acknowledged_as_the_incident_page_does(
    client, contract_site, influx, now, admin_user
):
    """One alarm acknowledged after 29 s, three never: '29 s', not '0 min', and the three
    said; the report and the incident page agree."""
    today = local_today(contract_site.timezone, now)
    period = month_period(contract_site.timezone, today.year, today.month)
    fired = max(period.start_utc, now - timedelta(minutes=30))
    alarms = [
        Alarm.objects.create(
            rule=AlarmRule.objects.create(
                site=contract_site,
                name=f"hot {i}",
                kind=RuleKind.ABOVE,
                domain=Domain.THERMAL,
                meaning="m",
                threshold=1,
            ),
            site=contract_site,
            severity=Severity.MAJOR,
            domain=Domain.THERMAL,
            title=f"alarm {i}",
            message="",
            state=AlarmState.ACKNOWLEDGED if i == 0 else AlarmState.FIRING,
            fired_at=fired,
            acknowledged_at=fired + timedelta(seconds=29) if i == 0 else None,
        )
        for i in range(4)
    ]
    incident = Incident.objects.create(site=contract_site, title="hot", opened_at=fired)
    incident.alarms.set(alarms)
    expected = "29 s over 1 of 4 alarms; 3 never acknowledged"
    assert incident_times(incident)["mtta_text"] == expected
    fig = site_report(site=contract_site, period=period, now=now + timedelta(seconds=1)).figures
    assert (fig["mtta_s"], fig["alarms_unacknowledged"]) == (29, 3)

    client.force_login(admin_user)
    page = client.get(reverse("reports:site_month", args=[contract_site.slug, period.label])).content.decode()
    incident_page = client.get(reverse("incidents:incident_detail", args=[incident.pk])).content.decode()
    assert expected in page.split('id="report-mtta"', 1)[1].split("</p>", 1)[0]
    assert expected in incident_page.split('id="incident-mtta"', 1)[1].split("</span>", 1)[0]
    assert "0 min" not in page


def _page_fill(pdf: bytes, tmp_path: Path) -> list[float]:
    """How far down each page its content reaches (0-1 of the area inside the margins),
    from the pages drawn in grey by poppler's pdftoppm."""
    path = tmp_path / "fill.pdf"
    path.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "30", "-gray", str(path), str(tmp_path / "p")], check=True)
    fills = []
    for pgm in sorted(tmp_path.glob("p-*.pgm"), key=lambda p: int(p.stem.split("-")[1])):
        data = pgm.read_bytes()
        _magic, width, height, _max, pixels = data.split(maxsplit=4)
        width, height = int(width), int(height)
        top, bottom = int(height * 12 / 297), int(height * (297 - 14) / 297)  # the page's margins
        last = top
        for y in range(top, bottom):
            if min(pixels[y * width : (y + 1) * width]) < 200:
                last = y
        fills.append((last - top) / (bottom - top))
    return fills


def test_the_pdf_is_an_operations_appendix(pool_october, tmp_path, now):
    pool, period, _truth = pool_october
    report = site_report(site=pool, period=period, now=now)
    pdf = report_pdf(report)
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "report-pool.pdf").write_bytes(pdf)
    text = pdf_text(pdf, tmp_path)
    first = text.split("page 1 of", 1)[0]
    # a summary in words on the first page: what went well, what did not, the contract
    for heading in ("What went well", "What did not", "Against the contract", "Minimum heat:"):
        assert heading in first, heading
    assert "Data missing for part of the period for" in first  # the day lost at the pool
    pages = int(re.search(r"page 1 of (\d+)", text)[1])
    assert all(f"page {n} of {pages}" in text for n in range(1, pages + 1))
    assert "not published yet" in text.lower()
    assert "docs/" not in text and ".md" not in text and ".py" not in text
    assert not re.search(r"-0\.0+ %", text)
    fills = _page_fill(pdf, tmp_path)
    assert len(fills) == pages
    assert [round(f, 2) for f in fills[:-1] if f < 0.6] == []  # no page but the last half empty
