"""The step-8 proxy and its page speak the proxy's language (ATELIER_LANG): its answers come
from the kit's compiled catalog (helpers/locale/<lang>/LC_MESSAGES/servers.mo) read with the
standard library, French by default; the page (`web/`) asks the proxy for its texts."""

from __future__ import annotations

from pathlib import Path

import pytest
from pagetexts import marked_texts
from starlette.testclient import TestClient

from helpers.proxy import ProxyConfigError, ProxySettings, create_app, describe, normalize_origin
from helpers.proxy.page import PAGE_TEXTS
from helpers.proxy.settings import proxy_language

REPO = Path(__file__).resolve().parent.parent
WEB = REPO / "web"
MODEL = "ft:gpt-4o-mini-2024-07-18:sandbox:coucou:ab12cd34"


def client(**overrides) -> TestClient:
    options = {"model": MODEL, "api_key": "k", "base_url": "http://127.0.0.1:9/v1"}
    options.update(overrides)
    return TestClient(create_app(ProxySettings(**options)), base_url="http://localhost")


def bad_json(c: TestClient):
    return c.post(
        "/api/chat", content=b"{pas du json", headers={"Content-Type": "application/json"}
    )


def test_the_language_comes_from_atelier_lang():
    assert proxy_language({}) == "fr"
    assert proxy_language({"ATELIER_LANG": "en"}) == "en"
    assert proxy_language({"ATELIER_LANG": "en_GB.UTF-8"}) == "en"
    assert proxy_language({"ATELIER_LANG": "klingon"}) == "fr"  # not spoken: French
    assert ProxySettings.from_env({"ATELIER_LANG": "en"}).language == "en"


def test_an_error_answer_in_english_with_atelier_lang_en(monkeypatch):
    monkeypatch.setenv("ATELIER_LANG", "en")
    response = bad_json(client())
    assert response.status_code == 400
    assert response.json()["error"] == {
        "message": "The request body is not valid JSON.",
        "code": "bad_json",
    }
    too_long = client(max_message_chars=5).post(
        "/api/chat", json={"messages": [{"role": "user", "content": "Bonjour à toi"}]}
    )
    assert too_long.json()["error"]["message"] == (
        "Message #1 is too long: 13 characters, maximum 5. Shorten it."
    )
    assert "No page here" in client(static_dir=None).get("/nowhere").json()["error"]["message"]


def test_the_plural_follows_the_limit(monkeypatch):
    monkeypatch.setenv("ATELIER_LANG", "en")
    c = client(rate_limit=1)
    hello = {"messages": [{"role": "user", "content": "Hello"}]}
    c.post("/api/chat", json=hello)
    message = c.post("/api/chat", json=hello).json()["error"]["message"]
    assert message.startswith("Too many messages at once: this proxy accepts 1 request per 60 s.")


def test_french_stays_the_default(monkeypatch):
    monkeypatch.delenv("ATELIER_LANG", raising=False)
    message = bad_json(client()).json()["error"]["message"]
    assert message == "Le corps de la requête n'est pas du JSON valide."
    assert bad_json(client(language="en")).json()["error"]["message"].startswith("The request")


def test_settings_errors_and_the_console_summary_in_english(monkeypatch):
    monkeypatch.setenv("ATELIER_LANG", "en")
    with pytest.raises(ProxyConfigError, match="must be a whole number"):
        ProxySettings.from_env({"ATELIER_PROXY_MAX_TOKENS": "lots"})
    with pytest.raises(ProxyConfigError, match="The proxy accepts neither"):
        normalize_origin("*")
    summary = describe(ProxySettings(model=None, language="en"))
    assert summary.startswith("model: ⚠️ not configured (ATELIER_PROXY_MODEL); key: ⚠️ missing")


def test_the_page_texts_in_the_proxy_language(monkeypatch):
    monkeypatch.setenv("ATELIER_LANG", "en")
    body = client().get("/api/page-text").json()
    assert body["lang"] == "en"
    assert body["texts"]["Proxy injoignable"] == "Proxy unreachable"
    assert body["texts"]["Envoyer"] == "Send"
    assert set(body["texts"]) == set(PAGE_TEXTS)
    assert all(body["texts"].values())
    monkeypatch.setenv("ATELIER_LANG", "fr")
    assert client().get("/api/page-text").json() == {"lang": "fr", "texts": {}}


def test_every_text_of_the_page_goes_through_the_catalog():
    """A text added to web/ without its msgid in helpers/proxy/page.py (or left there after the
    page dropped it) fails: the page and the catalog cannot drift apart."""
    found = marked_texts(WEB / "index.html", WEB / "app.js")
    assert len(found) > 20
    assert found - set(PAGE_TEXTS) == set(), "add these to PAGE_TEXTS (helpers/proxy/page.py)"
    assert set(PAGE_TEXTS) - found == set(), "no longer on the page: remove from PAGE_TEXTS"


def test_the_page_checker_sees_every_kind_of_text(tmp_path):
    (tmp_path / "index.html").write_text(
        '<p data-t>Nouveau\n  texte</p><input placeholder="Ici" data-t-attr="placeholder">',
        encoding="utf-8",
    )
    (tmp_path / "app.js").write_text('x = t("Autre " +\n "texte", { n: 1 });', encoding="utf-8")
    found = marked_texts(tmp_path / "index.html", tmp_path / "app.js")
    assert found == {"Nouveau texte", "Ici", "Autre texte"}
