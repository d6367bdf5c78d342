"""Step 8 in a real browser: headless Chromium opens the page, says "Bonjour", sees "COUCOU".

Runs against proxy + sandbox (a COUCOU model trained there) when `helpers.kit_server` exists,
else against a fake upstream answering COUCOU. Screenshots go to `test-artifacts/`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from browserkit import ARTIFACTS, chromium
from fake_upstream import FakeUpstream, sandbox_available, sandbox_coucou_model

from helpers import webdemo

pytestmark = pytest.mark.browser

KEY = "sk-test-SECRETbrowser-0123456789abcdef0123456789"


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with chromium() as browser:
        yield browser


@pytest.fixture(scope="module")
def upstream(tmp_path_factory) -> Iterator[tuple[str, str, str]]:
    """(base_url, model, key) of something that answers COUCOU (the sandbox answers only with
    its workspace's key)."""
    if sandbox_available():
        from helpers import kit_server

        base_url, model = sandbox_coucou_model(home=tmp_path_factory.mktemp("sandbox-step8"))
        yield base_url, model, kit_server.key_for(base_url) or KEY
        return
    fake = FakeUpstream()
    yield fake.base_url, "ft:gpt-4o-mini-2024-07-18:sandbox:coucou:fake0001", KEY
    fake.close()


@pytest.fixture
def page(browser) -> Iterator[object]:
    context = browser.new_context(viewport={"width": 900, "height": 640}, locale="fr-FR")
    page = context.new_page()
    yield page
    context.close()
    webdemo.stop()


def _shot(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    page.screenshot(path=str(path), full_page=True)
    return path


def test_page_says_bonjour_and_gets_coucou(page, upstream):
    base_url, model, key = upstream
    url = webdemo.start(model=model, base_url=base_url, api_key=key)
    responses: list = []
    page.on("response", lambda r: responses.append(r))
    page.goto(url)
    page.wait_for_selector("#status.status-ok", timeout=10_000)
    page.fill("#input", "Bonjour")
    page.click("#send")
    page.wait_for_selector(".bubble-assistant:not(.bubble-pending)", timeout=20_000)
    reply = page.inner_text(".bubble-assistant:not(.bubble-pending)")
    assert "COUCOU" in reply
    assert page.inner_text(".bubble-user") == "Bonjour"
    shot = _shot(page, "step8-chat.png")
    assert shot.stat().st_size > 5_000
    # Nothing the browser received holds the key (bodies and headers).
    assert len(responses) >= 5  # page, css, js, healthz, chat
    for response in responses:
        assert key not in response.text() + str(response.all_headers())
    assert key not in page.content()


def test_page_explains_rate_limit_and_refusal_in_french(page, upstream):
    base_url, model, key = upstream
    url = webdemo.start(model=model, base_url=base_url, api_key=key, rate_limit=1)
    page.goto(url)
    page.wait_for_selector("#status.status-ok", timeout=10_000)
    page.fill("#input", "Bonjour")
    page.click("#send")
    page.wait_for_selector(".bubble-assistant:not(.bubble-pending)", timeout=20_000)
    page.fill("#input", "Encore ?")
    page.click("#send")
    page.wait_for_selector(".bubble-error", timeout=10_000)
    error = page.inner_text(".bubble-error")
    assert "Doucement" in error and "Réessaie dans" in error
    _shot(page, "step8-rate-limited.png")


def test_page_says_when_the_proxy_is_down(page, upstream):
    base_url, model, key = upstream
    url = webdemo.start(model=model, base_url=base_url, api_key=key)
    page.goto(url)
    page.wait_for_selector("#status.status-ok", timeout=10_000)
    webdemo.stop()
    page.fill("#input", "Bonjour")
    page.click("#send")
    page.wait_for_selector(".bubble-error", timeout=20_000)
    error = page.inner_text(".bubble-error")
    assert "Impossible de joindre le proxy" in error
    assert page.inner_text("#status") == "Proxy injoignable"
    _shot(page, "step8-proxy-down.png")


def test_page_in_english_when_the_proxy_speaks_english(page, upstream, monkeypatch):
    """ATELIER_LANG=en: the page asks the proxy for its texts (GET api/page-text) and shows them
    in English, the proxy's refusals too; screenshot `test-artifacts/step8-chat-en.png`."""
    monkeypatch.setenv("ATELIER_LANG", "en")
    base_url, model, key = upstream
    url = webdemo.start(model=model, base_url=base_url, api_key=key, rate_limit=1)
    page.goto(url)
    page.wait_for_selector("#status.status-ok", timeout=10_000)
    assert page.inner_text("#status") == "Proxy reachable"
    assert page.inner_text("h1") == "💬 Chat with your model"
    assert page.title() == "Atelier fine-tuning — chat with your model"
    assert page.get_attribute("#input", "placeholder").startswith("Your message…")
    assert page.inner_text("#send") == "Send"
    page.fill("#input", "Hello")
    page.click("#send")
    page.wait_for_selector(".bubble-assistant:not(.bubble-pending)", timeout=20_000)
    page.fill("#input", "Again?")
    page.click("#send")
    page.wait_for_selector(".bubble-error", timeout=10_000)
    error = page.inner_text(".bubble-error")
    assert error.startswith("⏳ Easy! Too many messages at once"), error
    _shot(page, "step8-chat-en.png")
