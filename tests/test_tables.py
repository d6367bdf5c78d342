"""helpers.tables: the light tables that keep a notebook's kernel without pandas."""

from __future__ import annotations

import pytest

from helpers import tables


def test_from_records_keeps_the_first_records_key_order():
    table = tables.from_records(
        [{"modèle": "a", "prix": 1.5, "état": None}, {"état": "éteint", "modèle": "b", "prix": 2}],
        title="Modèles",
    )
    assert list(table.headers) == ["modèle", "prix", "état"]
    assert table.column("modèle") == ["a", "b"] and table.column("état") == [None, "éteint"]
    html = table._repr_html_()
    assert "<caption>Modèles</caption>" in html and ">1,5</td>" in html  # the French comma
    assert repr(table).splitlines()[1].split() == ["modèle", "prix", "état"]
    assert table.to_dataframe().index.name == "modèle"  # pandas on demand, first key as index


def test_from_records_refuses_nothing_to_show():
    with pytest.raises(ValueError):
        tables.from_records([])
