"""Fixtures shared by the test modules: the headless Chromium the page tests drive."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

# Debian's chromium; the names other platforms install it under, found on PATH
CHROMIUM = next((p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p),
                "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def browser():
    """One headless Chromium per test module (playwright drives it; nothing leaves the machine)."""
    from playwright import sync_api as sync

    assert Path(CHROMIUM).exists(), "the browser test needs Chromium (python3 dev.py test installs it)"
    with sync.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()
