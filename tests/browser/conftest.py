"""The browser tests' Chromium: Debian's, headless, with the flags this workplace needs
(no background networking or component updates: the machine has no internet)."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def browser():
    """One Chromium per test module (each module has its own stack of servers)."""
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is missing: deploy/bootstrap --dev installs it")
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield b
        b.close()
