"""Headless Debian Chromium driven by Playwright, for the browser tests (one place for the
executable, its flags and the screenshots folder)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from conftest import REPO, require

CHROMIUM = os.environ.get("ATELIER_CHROMIUM", "/usr/bin/chromium")
# Without the background-networking flags Chromium keeps trying hosts this machine cannot reach.
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = REPO / "test-artifacts"
# The course notebooks a browser must see: those that display ipywidgets (the key form, the
# dataset table, the job monitor) or the step-8 page. The others are run in order under nbval
# (make test's notebooks part) and each alone (tests/test_course_sentinel.py): running them in
# the browser too would run them a third time for the same purpose. tests/test_course_texts.py
# checks that every notebook showing a widget or the page is listed here.
BROWSER_NOTEBOOKS = ("02_cle", "03_dataset", "06_suivi", "08_page_web")
# What, in a code cell, displays something only a browser renders.
RENDERED_IN_A_BROWSER = ("helpers.widgets", "from helpers import widgets", "webdemo.show")


def chromium_path() -> str | None:
    return CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium")


@contextmanager
def chromium() -> Iterator[object]:
    """A Playwright browser on Debian's Chromium (skips, or fails in CI, when one is missing)."""
    require(chromium_path() is not None, "Chromium absent (apt-get install -y chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        require(False, "playwright absent (pip install playwright)")
        raise
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=chromium_path(), args=LAUNCH_ARGS, headless=True
        )
        try:
            yield browser
        finally:
            browser.close()
