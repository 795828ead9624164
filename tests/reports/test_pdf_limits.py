"""Printing PDFs is bounded: at most a few Chromiums at once per process, and the same page
printed once (the PDF is kept for it)."""

from __future__ import annotations

import threading

import pytest

from apps.reports import services


def page(n: int) -> str:
    return f"<html><body><h1>Report {n}</h1><script>window.reportReady = true</script></body></html>"


@pytest.fixture
def stats(settings):
    services.pdf_stats.peak = services.pdf_stats.active = services.pdf_stats.printed = 0
    return services.pdf_stats


def test_the_same_page_is_printed_once(stats):
    first = services.render_pdf(page(1))
    again = services.render_pdf(page(1))
    assert first.startswith(b"%PDF-") and again == first
    assert stats.printed == 1
    services.render_pdf(page(2))  # another page (other figures, another version) is printed
    assert stats.printed == 2


def test_requests_beyond_the_limit_wait_their_turn(stats, settings):
    settings.HEATOPS_REPORT_PDF_CONCURRENCY = 1
    pdfs = {}

    def ask(n):
        pdfs[n] = services.render_pdf(page(10 + n))

    threads = [threading.Thread(target=ask, args=(n,)) for n in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert sorted(pdfs) == [0, 1, 2] and all(p.startswith(b"%PDF-") for p in pdfs.values())
    assert (stats.printed, stats.peak) == (3, 1)  # one Chromium at a time, none refused
