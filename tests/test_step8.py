"""Step 8 after Run All (issue 15): the page stays usable, a restart keeps its address, and the
page's status dot keeps asking the proxy instead of trusting its first answer."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from fake_upstream import FakeUpstream

from helpers import webdemo

REPO = Path(__file__).resolve().parent.parent
KEY = "sk-test-SECRETstep8-" + "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
MODEL = "ft:gpt-4o-mini-2024-07-18:sandbox:coucou:ab12cd34"


@pytest.fixture
def fake() -> Iterator[FakeUpstream]:
    upstream = FakeUpstream()
    try:
        yield upstream
    finally:
        webdemo.stop()
        upstream.close()


def _chat(url: str) -> str:
    req = urllib.request.Request(
        url + "api/chat",
        data=json.dumps({"messages": [{"role": "user", "content": "Bonjour"}]}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=10) as r:  # noqa: S310 (loopback)
        return json.loads(r.read())["message"]["content"]


def test_the_page_answers_after_the_check_and_a_restart_keeps_its_address(fake):
    url = webdemo.start(model=MODEL, base_url=fake.base_url, api_key=KEY)
    assert webdemo.check_key_hidden().ok
    assert _chat(url) == "COUCOU", "the page must still answer after the ✅ check"
    again = webdemo.start(model=MODEL, base_url=fake.base_url, api_key=KEY)
    assert again == url, "re-running the start cell must not break the page already shown"
    assert _chat(again) == "COUCOU"


def test_the_status_dot_keeps_checking_and_blames_only_what_can_fail():
    app = (REPO / "web" / "app.js").read_text(encoding="utf-8")
    assert "setInterval(" in app and "checkHealth()" in app.split("setInterval(", 1)[1][:200]
    assert "visibilitychange" in app
    served_here = app[app.index("if (!configured)") :].split("}", 1)[0]
    assert "GitHub Pages" not in served_here and "ATELIER_PROXY" not in served_here
