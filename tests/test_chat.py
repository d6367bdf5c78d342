"""chat: ask (temperature 0, workspace model), compare (base vs fine-tuned)."""

from __future__ import annotations

import pytest
from fakeapi import FakeAPI, install

from helpers import chat, workspace


@pytest.fixture
def fake(monkeypatch) -> FakeAPI:
    return install(monkeypatch)


def test_ask_defaults(fake):
    workspace.record(fine_tuned_model="ft:gpt-4o-mini-2024-07-18:test:coucou:abcd1234")
    assert chat.ask("Bonjour") == "COUCOU"
    body = fake.chat_bodies[-1]
    assert body["temperature"] == 0
    assert body["messages"] == [{"role": "user", "content": "Bonjour"}]
    assert "max_tokens" not in body


def test_ask_system_messages_max_tokens(fake):
    chat.ask(
        [{"role": "user", "content": "Salut"}],
        "gpt-4o-mini-2024-07-18",
        system="Sois bref",
        max_tokens=5,
        temperature=0.5,
    )
    body = fake.chat_bodies[-1]
    assert body["messages"][0] == {"role": "system", "content": "Sois bref"}
    assert body["max_tokens"] == 5 and body["temperature"] == 0.5


def test_ask_without_model_is_french(fake):
    with pytest.raises(chat.NoModelError, match="Aucun modèle fine-tuné"):
        chat.ask("Bonjour")


def test_compare(fake):
    workspace.record(
        fine_tuned_model="ft:gpt-4o-mini-2024-07-18:test:coucou:abcd1234",
        base_model="gpt-4o-mini-2024-07-18",
    )
    table = chat.compare(["Bonjour", "Quelle heure est-il ?"])
    assert list(table.headers) == [
        "question",
        "gpt-4o-mini-2024-07-18",
        "ft:gpt-4o-mini-2024-07-18:test:coucou:abcd1234",
    ]
    assert table.column("question") == ["Bonjour", "Quelle heure est-il ?"]
    assert table.column("ft:gpt-4o-mini-2024-07-18:test:coucou:abcd1234") == ["COUCOU", "COUCOU"]
    assert table.column("gpt-4o-mini-2024-07-18")[0] != "COUCOU"
    assert "COUCOU" in table._repr_html_()  # shown in full by Jupyter, without pandas
    table = chat.compare(["a"], models=["ft:x:y:z:w"])
    assert list(table.headers) == ["question", "ft:x:y:z:w"]
    assert list(table.to_dataframe().columns) == ["ft:x:y:z:w"]  # pandas on demand
