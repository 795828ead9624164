"""Writes for reports: printing the PDF, publishing a snapshot, emailing it, and the
progress of a publishing job."""

from __future__ import annotations

import hashlib
import logging
import tempfile
import threading
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.cache import cache
from django.core.mail import EmailMessage
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.html import escape

from apps.ownership.choices import Area
from apps.ownership.selectors import people_informed
from apps.sites.models import Site
from heatops.tasking import record_once

from . import conf, presentation
from .choices import PublishState
from .models import ReportDelivery, ReportRecipient, ReportSnapshot
from .periods import Period, last_month_at, month_period
from .selectors import SiteReport, site_report
from .summary import published_text

logger = logging.getLogger(__name__)

PROGRESS_TTL_S = 24 * 3600
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


# --- progress of a publishing job (shown by an htmx-polled fragment) ---------------------


def progress_set(job: str, state: str, **extra) -> None:
    key = f"reports:job:{job}"
    current = cache.get(key) or {}
    cache.set(
        key, {**current, **extra, "state": str(state), "at": timezone.now().isoformat()}, PROGRESS_TTL_S
    )


def progress_get(job: str) -> dict | None:
    return cache.get(f"reports:job:{job}")


# --- charts and the printable page -------------------------------------------------------


def _static_text(path: str) -> str:
    found = finders.find(path)
    if not found:
        raise FileNotFoundError(f"static file {path} not found")
    return Path(found).read_text(encoding="utf-8")


def print_html(report: SiteReport) -> str:
    """The report as one printable page, data and chart script inlined and plotly.js read
    from the installed package's file, so printing it needs neither a login nor a server."""
    plotly = finders.find("vendor/plotly/plotly.min.js")
    if not plotly:
        raise FileNotFoundError("plotly.min.js not found (it ships with the plotly package)")
    return render_to_string(
        "reports/print.html",
        {
            **presentation.report_context(report),
            "generated_at": timezone.now(),
            "plotly_src": Path(plotly).as_uri(),
            "report_js": _static_text("reports/report.js"),
        },
    )


class PdfStats:
    """How many PDFs this process is printing now, and the most it printed at once."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.active = self.peak = self.printed = 0

    def enter(self) -> None:
        with self.lock:
            self.active += 1
            self.peak = max(self.peak, self.active)

    def leave(self) -> None:
        with self.lock:
            self.active -= 1
            self.printed += 1


pdf_stats = PdfStats()
_pdf_slots: threading.BoundedSemaphore | None = None
_pdf_slots_lock = threading.Lock()


def _slots() -> threading.BoundedSemaphore:
    """At most HEATOPS_REPORT_PDF_CONCURRENCY Chromiums per process (each takes some 200 MB
    and a core): further requests wait their turn."""
    global _pdf_slots
    with _pdf_slots_lock:
        size = int(conf.get("HEATOPS_REPORT_PDF_CONCURRENCY"))
        if _pdf_slots is None or getattr(_pdf_slots, "size", None) != size:
            _pdf_slots = threading.BoundedSemaphore(size)
            _pdf_slots.size = size
        return _pdf_slots


def render_pdf(html: str, footer: str = "") -> bytes:
    """Print HTML to an A4 PDF with headless Chromium (Debian's), once its charts are drawn,
    at most HEATOPS_REPORT_PDF_CONCURRENCY at a time, and the same HTML once: the PDF is
    cached by the page's content (which carries the figures and the report's version) for
    HEATOPS_REPORT_PDF_CACHE_S."""
    key = "report-pdf:" + hashlib.sha256((footer + "\0" + html).encode()).hexdigest()
    try:
        cached = cache.get(key)
    except Exception:  # the cache (Redis) down: print anyway
        cached = None
    if cached is not None:
        return cached
    with _slots():
        pdf_stats.enter()
        try:
            pdf = _print(html, footer)
        finally:
            pdf_stats.leave()
    try:
        cache.set(key, pdf, int(conf.get("HEATOPS_REPORT_PDF_CACHE_S")))
    except Exception:
        pass
    return pdf


FOOTER = (
    '<div style="font-family: DejaVu Sans, sans-serif; font-size: 7.5pt; color: #555; width: 100%; '
    'margin: 0 10mm; display: flex; justify-content: space-between;">'
    '<span>{text}</span><span>page <span class="pageNumber"></span> of <span class="totalPages"></span></span></div>'
)


def _print(html: str, footer: str = "") -> bytes:
    """The page is loaded from a temporary file, so it may load plotly.js from disk (parsing
    the 4.8 MB script from a file is about twice as fast as inlining it)."""
    from playwright.sync_api import sync_playwright

    chromium = conf.get("HEATOPS_REPORT_CHROMIUM")
    if not Path(chromium).exists():
        raise RuntimeError(
            f"Chromium is not at {chromium}, so no PDF can be printed: install Debian's chromium "
            "or set HEATOPS_REPORT_CHROMIUM"
        )
    with tempfile.TemporaryDirectory(prefix="heatops-report-") as tmp:
        page_file = Path(tmp) / "report.html"
        page_file.write_text(html, encoding="utf-8")
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)
            try:
                page = browser.new_page()
                page.goto(page_file.as_uri(), wait_until="load")
                page.wait_for_function("() => window.reportReady === true", timeout=60_000)
                return page.pdf(
                    format="A4",
                    print_background=True,
                    display_header_footer=True,
                    header_template="<span></span>",
                    footer_template=FOOTER.format(text=escape(footer)),
                    margin={"top": "12mm", "bottom": "14mm", "left": "10mm", "right": "10mm"},
                )
            finally:
                browser.close()


def report_pdf(report: SiteReport) -> bytes:
    """The report's PDF; each page's footer names the site, the period and the version."""
    footer = f"{report.site.name} · {report.period.label} · {published_text(report.figures)}"
    return render_pdf(print_html(report), footer)


# --- publishing -------------------------------------------------------------------------


def report_inputs(report: SiteReport) -> dict:
    """Everything the figures rest on, frozen with them."""
    site, fig = report.site, report.figures
    return {
        "contract": {
            "supply_temp_min_c": site.supply_temp_min_c,
            "supply_temp_max_c": site.supply_temp_max_c,
            "min_monthly_heat_kwh": site.min_monthly_heat_kwh,
            "contracted_capacity_kw": site.contracted_capacity_kw,
            "capacity_charge_per_kw_month": str(site.capacity_charge_per_kw_month),
            "energy_charge_per_kwh": str(site.energy_charge_per_kwh),
            "currency": site.currency,
        },
        "factors": {
            "displaced_source": site.displaced_source,
            "displaced_efficiency": site.displaced_efficiency,
            "emission_factor_kg_per_kwh": site.emission_factor_kg_per_kwh,
            "fuel_price_per_kwh": str(site.fuel_price_per_kwh),
        },
        "settings": {name: conf.get(name) for name in conf.DEFAULTS if name != "HEATOPS_REPORT_CHROMIUM"},
        "coverage": {k: v for k, v in fig.items() if k.endswith("_coverage")},
        "timezone": report.period.tz,
        "influx_database": settings.INFLUX.get("DB"),
        "computed_at": timezone.now().isoformat(),
    }


def report_snapshot_publish(
    *, site: Site, period: Period, user=None, job: str | None = None, only_if_missing: bool = False
) -> ReportSnapshot | None:
    """Compute, print and save the next version of a site's report; email it on commit.
    With ``only_if_missing`` (the monthly schedule), do nothing if a version exists. With a
    ``job`` (the "Publish now" button's), the version that job made, if it made one: the
    job's task run twice makes one version."""

    def step(state: str) -> None:
        if job:
            progress_set(job, state)

    snapshots = ReportSnapshot.objects.filter(site=site, period_start=period.start, period_end=period.end)
    if only_if_missing and snapshots.exists():
        return None
    if job and (done := ReportSnapshot.objects.filter(job=job).first()):
        return done
    step(PublishState.COMPUTING)
    report = site_report(site=site, period=period)
    step(PublishState.RENDERING)
    key = {"site": site, "period_start": period.start, "period_end": period.end}

    def printed(version: int) -> tuple[bytes, str]:
        """The PDF and CSV as this version (each names it, and its date)."""
        report.figures.update(
            published_version=version, published_at=timezone.now().isoformat(), figures_from="published"
        )
        return report_pdf(report), presentation.csv_text([report.figures])

    version = ReportSnapshot.objects.next_version(**key)
    pdf, csv = printed(version)
    step(PublishState.SAVING)
    with transaction.atomic():
        Site.objects.select_for_update().filter(pk=site.pk).first()  # one version number at a time
        if only_if_missing and snapshots.exists():
            return None
        if job and (done := ReportSnapshot.objects.filter(job=job).first()):  # made meanwhile
            return done
        if ReportSnapshot.objects.next_version(**key) != version:  # another was published meanwhile
            version = ReportSnapshot.objects.next_version(**key)
            pdf, csv = printed(version)
        snapshot = ReportSnapshot.objects.create(
            site=site,
            period_start=period.start,
            period_end=period.end,
            label=period.label,
            version=version,
            created_by=user,
            inputs=report_inputs(report),
            figures=report.figures,
            csv=csv,
            pdf=pdf,
            job=job,
        )
        transaction.on_commit(lambda: _email_later(snapshot.pk))
    return snapshot


def report_publish_due(*, now: datetime | None = None) -> list[tuple[Site, str]]:
    """Every active site whose last month, by its own local clock at ``now`` (default: the
    wall clock), has no published report yet: enqueue its publication. Once a site's clock
    has passed local midnight on the 1st, last month is complete; a later run finds it
    published and does nothing. Returns the (site, "YYYY-MM") pairs enqueued."""
    from .tasks import report_publish_month_task

    now = now or datetime.now(UTC)
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    due = []
    for site in Site.objects.filter(is_active=True).order_by("pk"):
        year, month = last_month_at(site.timezone, now)
        period = month_period(site.timezone, year, month)
        if ReportSnapshot.objects.filter(
            site=site, period_start=period.start, period_end=period.end
        ).exists():
            continue
        label = f"{year:04d}-{month:02d}"
        report_publish_month_task.delay(site.pk, label)
        due.append((site, label))
    return due


def _email_later(snapshot_id: int) -> None:
    from .tasks import report_email_task

    report_email_task.delay(snapshot_id)


def report_recipients(site: Site) -> list[str]:
    """Who is Informed for contract and billing in the site's RACI matrix, and the extra
    addresses listed for the site's reports (people outside heatops)."""
    # only those who may see the site: a report is the site's data
    addresses = {u.email for u in people_informed(site=site, area=Area.CONTRACT) if u.email}
    for recipient in ReportRecipient.objects.filter(site=site).select_related("user"):
        if recipient.address and (recipient.user is None or recipient.user.is_active):
            addresses.add(recipient.address)
    return sorted(addresses)


def report_snapshot_email(*, snapshot: ReportSnapshot) -> ReportDelivery | None:
    """Email the snapshot to its recipients, once: the delivery row is written first, in
    the transaction that sends, so a second run finds it and sends nothing, and an email
    the mail server refuses leaves no row (the task retries it). None if nobody is to
    receive it, or it was sent already."""
    to = report_recipients(snapshot.site)
    if not to:
        logger.info("report %s: nobody to send it to", snapshot)
        return None
    fig = snapshot.figures
    lines = [
        f"{snapshot.site.name}: performance report for {snapshot.label} (version {snapshot.version}).",
        "",
        *(f"{r['label']}: {r['value']} ({r['coverage']})" for r in presentation.figure_rows(fig)),
        "",
        *presentation.notes(fig),
        "",
        f"{settings.HEATOPS_BASE_URL.rstrip('/')}/reports/{snapshot.site.slug}/{snapshot.label}/",
    ]
    message = EmailMessage(
        subject=f"[heatops] {snapshot.site.name}: report for {snapshot.label}",
        body="\n".join(lines),
        to=to,
    )
    message.attach(f"{snapshot.filename}.csv", snapshot.csv, "text/csv")
    message.attach(f"{snapshot.filename}.pdf", bytes(snapshot.pdf), "application/pdf")
    with transaction.atomic():
        delivery = record_once(ReportDelivery, snapshot=snapshot, recipients=", ".join(to))
        if delivery is not None:
            message.send()
    return delivery
