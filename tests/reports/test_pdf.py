"""The PDF is the report page printed by headless Chromium: the same figures, charts drawn."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders

from apps.reports.presentation import figure_rows


def pdf_title(pdf: bytes) -> str:
    """The document title Chromium writes (UTF-16, hex) into the PDF's metadata."""
    match = re.search(rb"/Title\s*<([0-9A-Fa-f]+)>", pdf)
    return bytes.fromhex(match.group(1).decode()).decode("utf-16") if match else ""


def pdf_text(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True)
    return " ".join(out.stdout.split())


def assert_pdf_agrees_with_page(pdf: bytes, figures: dict, page_html: str, tmp_path: Path) -> None:
    """A valid PDF titled with the site and month, whose text has every figure the page shows."""
    assert pdf.startswith(b"%PDF-") and b"%%EOF" in pdf[-64:]
    title = pdf_title(pdf)
    assert figures["site_name"] in title and figures["period"] in title
    rows = figure_rows(figures)
    for row in rows:
        assert row["value"] in page_html, row["label"]
    if not shutil.which("pdftotext"):
        pytest.skip("pdftotext (Debian poppler-utils) is not installed: checked the PDF's metadata only")
    text = pdf_text(pdf, tmp_path)
    for row in rows:
        assert " ".join(row["value"].split()) in text, row["label"]
        assert row["label"] in text
    assert "Daily heat delivered against IT energy" in text  # the charts are drawn
    assert "Supply temperature in band while heat was called for" in text


def test_the_print_page_loads_nothing_from_the_network(pool_october):
    from apps.reports.selectors import site_report
    from apps.reports.services import print_html

    pool, period, _truth = pool_october
    html = print_html(site_report(site=pool, period=period, compare=False))
    # plotly.js is the installed package's file; the data and chart script are inline
    plotly = Path(finders.find("vendor/plotly/plotly.min.js")).as_uri()
    assert re.findall(r'<script src="([^"]+)"', html) == [plotly]
    assert 'id="report-data"' in html
    assert "http://" not in html.split("<body", 1)[1].replace("http://www.w3.org", "")
