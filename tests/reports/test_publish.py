"""Publishing: frozen snapshots, the hourly schedule, the email, "Publish now" with progress."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings as django_settings
from django.urls import reverse

from apps.accounts.models import SiteAccess
from apps.ownership.choices import Area, Raci
from apps.ownership.models import Assignment
from apps.reports.models import ImmutableSnapshot, ReportRecipient, ReportSnapshot
from apps.reports.tasks import report_email_task, report_publish_due_task, report_publish_task
from apps.sites.models import Site
from heatops.tasking import retry_delays_s, retry_span_s
from tests.mailservers import FailingOnce

from .test_pdf import assert_pdf_agrees_with_page, pdf_text


def test_a_published_report_never_changes_and_a_new_one_is_the_next_version(demo_sites):
    pool = demo_sites["pool"]
    period = {"site": pool, "period_start": date(2026, 10, 1), "period_end": date(2026, 11, 1)}
    first = ReportSnapshot.objects.create(
        **period, label="2026-10", version=1, inputs={}, figures={"erf": 0.5}, csv="site\n", pdf=b"%PDF-"
    )
    first.figures["erf"] = 0.9
    with pytest.raises(ImmutableSnapshot):
        first.save()
    first.refresh_from_db()
    assert first.figures == {"erf": 0.5}
    assert ReportSnapshot.objects.next_version(**period) == 2
    assert ReportSnapshot.objects.latest_for(**period) == first


def test_the_hourly_schedule_publishes_last_month_once_and_emails_it(
    client, pool_october, django_user_model, django_capture_on_commit_callbacks, mailoutbox, tmp_path
):
    pool, period, truth = pool_october
    Site.objects.exclude(pk=pool.pk).update(is_active=False)
    finance = django_user_model.objects.create_user("finance", email="finance@example.org")
    SiteAccess.objects.create(user=finance, site=pool)  # only people who may see the site get its report
    outsider = django_user_model.objects.create_user("outsider", email="outsider@example.org")
    Assignment.objects.create(site=pool, area=Area.CONTRACT, role=Raci.INFORMED, user=finance)
    Assignment.objects.create(site=pool, area=Area.CONTRACT, role=Raci.INFORMED, user=outsider)
    ReportRecipient.objects.create(site=pool, email="customer@example.org")

    # the first hourly run after local midnight on 1 November (00:30 in London): October is due
    first_run = period.end_utc + timedelta(minutes=30)
    with django_capture_on_commit_callbacks(execute=True):
        report_publish_due_task.delay(now=first_run.isoformat())

    snapshot = ReportSnapshot.objects.get(site=pool)
    assert (snapshot.label, snapshot.version, snapshot.created_by) == (period.label, 1, None)
    assert snapshot.figures["heat_delivered_kwh"] == pytest.approx(truth["heat"], rel=1e-3)
    assert snapshot.inputs["contract"]["capacity_charge_per_kw_month"] == "4.5000"
    assert snapshot.inputs["factors"]["displaced_efficiency"] == 0.88
    assert snapshot.inputs["coverage"]["it_energy_coverage"] == pytest.approx(721 / 745, rel=1e-3)
    assert bytes(snapshot.pdf).startswith(b"%PDF-")
    [mail] = mailoutbox
    assert sorted(mail.to) == ["customer@example.org", "finance@example.org"]
    assert "Northgate Leisure Pool" in mail.subject and period.label in mail.subject
    attachments = {name: (content, kind) for name, content, kind in mail.attachments}
    assert attachments[f"heatops-pool-{period.label}-v1.csv"] == (snapshot.csv, "text/csv")
    assert attachments[f"heatops-pool-{period.label}-v1.pdf"][0].startswith(b"%PDF-")
    assert snapshot.deliveries.get().recipients == "customer@example.org, finance@example.org"
    # the PDF sent reads as the page does
    client.force_login(django_user_model.objects.create_superuser("boss", password="x"))
    page = client.get(reverse("reports:site_month", args=["pool", period.label])).content.decode()
    assert_pdf_agrees_with_page(bytes(snapshot.pdf), snapshot.figures, page, tmp_path)

    # the portfolio shows the month as published; the site's CSV, computed now, names the
    # same latest version (and says its own figures are computed)
    [row] = csv.DictReader(io.StringIO(snapshot.csv))
    assert (row["figures_from"], row["published_version"]) == ("published", "1")
    portfolio = client.get(reverse("reports:portfolio_csv", args=[period.label])).content.decode()
    [row] = csv.DictReader(io.StringIO(portfolio))
    assert (row["figures_from"], row["published_version"]) == ("published", "1")
    site_csv = client.get(reverse("reports:site_month_csv", args=["pool", period.label])).content.decode()
    [row] = csv.DictReader(io.StringIO(site_csv))
    assert (row["figures_from"], row["published_version"]) == ("computed", "1")
    assert row["published_at"] == snapshot.created_at.isoformat()
    # the PDF names its version and date on every page, and has page numbers
    text = pdf_text(bytes(snapshot.pdf), tmp_path)
    pages = text.count("page ")
    assert f"Published version 1, {snapshot.created_at:%d %b %Y}" in text
    assert pages >= 2 and f"page {pages} of {pages}" in text

    with django_capture_on_commit_callbacks(execute=True):  # an hour later: already published
        report_publish_due_task.delay(now=(first_run + timedelta(hours=1)).isoformat())
    assert ReportSnapshot.objects.count() == 1
    assert len(mailoutbox) == 1


def test_what_is_due_follows_the_sites_own_clock(demo_sites):
    """A month is due once the site's local clock has passed midnight on the 1st, not UTC's:
    in London's summer, 00:30 on the 1st is 23:30 the day before in UTC."""
    from apps.reports.services import report_publish_due

    pool = demo_sites["pool"]  # Europe/London
    Site.objects.exclude(pk=pool.pk).update(is_active=False)
    london = ZoneInfo("Europe/London")
    for month in (6, 8):  # June and August 2031 are published; July is not
        ReportSnapshot.objects.create(
            site=pool,
            period_start=date(2031, month, 1),
            period_end=date(2031, month + 1, 1),
            label=f"2031-{month:02d}",
            version=1,
            inputs={},
            figures={},
            csv="",
            pdf=b"%PDF-",
        )
    # 23:30 on 31 July in London: July is not over, so nothing is due (June is published)
    assert report_publish_due(now=datetime(2031, 7, 31, 23, 30, tzinfo=london)) == []
    # 00:30 on 1 September in London (still 31 August in UTC): August is due, and published
    assert report_publish_due(now=datetime(2031, 9, 1, 0, 30, tzinfo=london)) == []
    assert ReportSnapshot.objects.count() == 2


def test_publish_now_shows_progress_until_the_new_version_is_there(
    client, admin_user, pool_october, django_capture_on_commit_callbacks
):
    _pool, period, _truth = pool_october
    client.force_login(admin_user)
    page = client.get(reverse("reports:site_month", args=["pool", period.label]))
    assert "Publish now" in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("reports:publish", args=["pool", period.label]), HTTP_HX_REQUEST="true"
        )
    assert response.status_code == 200
    job = response.context["job"]
    # the task ran at once here (eager Celery); on a worker the fragment polls until it has
    progress = client.get(reverse("reports:progress", args=[job]))
    html = progress.content.decode()
    assert "Published version 1" in html
    assert "hx-trigger" not in html  # finished: it stops polling
    snapshot = ReportSnapshot.objects.get(site__slug="pool", label=period.label)
    assert snapshot.created_by == admin_user
    pdf = client.get(reverse("reports:snapshot_file", args=[snapshot.pk, "pdf"]))
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF-")
    page = client.get(reverse("reports:site_month", args=["pool", period.label]))
    assert "v1" in page.content.decode()


def test_someone_who_may_not_publish_is_refused(client, pool_user, pool_october):
    _pool, period, _truth = pool_october
    client.force_login(pool_user)
    response = client.post(reverse("reports:publish", args=["pool", period.label]))
    assert response.status_code == 403
    assert not ReportSnapshot.objects.exists()


def test_a_publishing_task_run_twice_makes_one_version_and_one_email(
    pool_october, admin_user, django_capture_on_commit_callbacks, mailoutbox
):
    """Celery delivers a task again when its worker dies before acknowledging it: the
    "Publish now" job makes one version, and the snapshot is emailed once."""
    pool, period, _truth = pool_october
    ReportRecipient.objects.create(site=pool, email="customer@example.org")
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            report_publish_task(pool.pk, period.label, admin_user.pk, "job-1")
    snapshot = ReportSnapshot.objects.get(site=pool)
    assert (snapshot.version, snapshot.job) == (1, "job-1")
    report_email_task(snapshot.pk)  # the email task delivered again
    assert len(mailoutbox) == 1 and snapshot.deliveries.count() == 1
    with django_capture_on_commit_callbacks(execute=True):  # another job: the next version
        report_publish_task(pool.pk, period.label, admin_user.pk, "job-2")
    assert sorted(ReportSnapshot.objects.values_list("version", flat=True)) == [1, 2]
    assert len(mailoutbox) == 2


def test_a_report_email_the_mail_server_refused_is_retried_and_recorded_once(
    demo_sites, settings, mailoutbox
):
    pool = demo_sites["pool"]
    ReportRecipient.objects.create(site=pool, email="customer@example.org")
    snapshot = ReportSnapshot.objects.create(
        site=pool,
        period_start=date(2026, 10, 1),
        period_end=date(2026, 11, 1),
        label="2026-10",
        version=1,
        inputs={},
        figures={},
        csv="site\n",
        pdf=b"%PDF-",
    )
    settings.EMAIL_BACKEND = "tests.mailservers.FailingOnce"
    FailingOnce.failed = False
    # run eagerly, a retry runs at once; throw=False: as a worker, which retries the error
    report_email_task.apply(args=(snapshot.pk,), throw=False)
    assert FailingOnce.failed
    assert [m.to for m in mailoutbox] == [["customer@example.org"]]
    assert snapshot.deliveries.count() == 1


def test_the_report_docs_give_the_email_retries_as_they_are():
    delays = retry_delays_s(report_email_task)
    text = " ".join((Path(django_settings.BASE_DIR) / "docs" / "reports.md").read_text().split())
    said = (
        f"retried {len(delays)} times, {delays[0]} s apart doubling up to {delays[-1] // 60} min: "
        f"for {retry_span_s(report_email_task)} s"
    )
    assert said in text
