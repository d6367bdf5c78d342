"""Headless Debian Chromium driven by Playwright, for the browser tests (one place for the
executable, its flags and the screenshots folder)."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
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


# JupyterLab's settings for the browser tests.
LAB_SETTINGS = {
    # every cell stays in the page (JupyterLab otherwise only renders the visible ones)
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    # no news or update check (no network in tests)
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
}


def require_lab() -> None:
    """Chromium, Playwright and JupyterLab, or a skip (a failure in CI) saying which is missing."""
    require(
        Path(CHROMIUM).exists(), f"Chromium missing at {CHROMIUM} (apt-get install -y chromium)"
    )
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        require(False, "Playwright's Python package is missing (pip install playwright)")
    require(
        shutil.which("jupyter-lab", path=str(Path(sys.executable).parent)) is not None,
        "JupyterLab is missing in this environment (pip install jupyterlab)",
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, proc: subprocess.Popen, timeout: float = 90) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise RuntimeError(f"JupyterLab exited with code {proc.returncode}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise TimeoutError("JupyterLab did not start")


@contextmanager
def jupyterlab(base: Path, root: Path, env: dict[str, str]) -> Iterator[str]:
    """A JupyterLab on 127.0.0.1 serving `root` (its settings, config and runtime under `base`,
    no token, no network), with the kit's variables `env` over this process's (without a key
    or ATELIER_LANG of ours); yields its URL, stops it after."""
    settings_dir = base / "lab-settings"
    for rel, value in LAB_SETTINGS.items():
        path = settings_dir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(value), encoding="utf-8")
    port = free_port()
    full = {
        **{
            k: v
            for k, v in os.environ.items()
            if k not in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "ATELIER_LANG")
        },
        "JUPYTERLAB_SETTINGS_DIR": str(settings_dir),
        "JUPYTERLAB_WORKSPACES_DIR": str(base / "workspaces"),
        "JUPYTER_CONFIG_DIR": str(base / "jupyter-config"),
        "JUPYTER_RUNTIME_DIR": str(base / "runtime"),
        "IPYTHONDIR": str(base / "ipython"),
        **env,
    }
    log = (base / "lab.log").open("w")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jupyterlab",
            "--no-browser",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={port}",
            "--ServerApp.port_retries=0",
            "--IdentityProvider.token=",
            "--ServerApp.password=",
            "--ServerApp.disable_check_xsrf=True",
            f"--ServerApp.root_dir={root}",
            "--LabApp.expose_app_in_browser=True",
            "--LabApp.news_url=",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
            "--LabApp.extension_manager=readonly",
            *(["--allow-root"] if os.geteuid() == 0 else []),
        ],
        cwd=root,
        env=full,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        try:
            wait_port(port, proc)
        except Exception as exc:
            log.flush()
            raise RuntimeError(
                f"{exc}\n{(base / 'lab.log').read_text(errors='replace')[-3000:]}"
            ) from None
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
