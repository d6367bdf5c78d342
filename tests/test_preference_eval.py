"""Notebook 13's measure: the preferred style (short, without « vous »), a model's rate on
held-out questions through notebook 12's `ask_all`, the tables and the chart."""

from __future__ import annotations

import pytest

from helpers import preference_eval


@pytest.mark.parametrize(
    ("text", "preferred"),
    [
        ("Tape ls dans ton terminal.", True),
        ("Un passage complet sur tes exemples.", True),
        ("Vous pouvez taper ls.", False),  # « vous »
        (
            "Pour afficher la liste de vos fichiers, tapez ls dans le terminal de votre ordinateur.",
            False,
        ),
        ("mot " * 16, False),  # too long
        ("", False),
        ("   ", False),
    ],
)
def test_preferred_style(text, preferred):
    assert preference_eval.preferred_style(text) is preferred


def test_tu_and_vous_are_words_not_letters():
    assert preference_eval.says_vous("VOUS voyez") and not preference_eval.says_vous("nouvous")
    assert preference_eval.says_tu("t'as vu ?") and preference_eval.says_tu("Tu vois")
    assert not preference_eval.says_tu("tutoriel")


def test_style_rate_through_the_sdk(workspace):
    from helpers.client import client

    api = client()
    prompts = [[{"role": "user", "content": q}] for q in ("Bonjour", "C'est quoi une variable ?")]
    rate = preference_eval.style_rate(
        "gpt-4o-mini-2024-07-18", prompts, label="base", progress=False
    )
    assert rate.simulated and rate.total == 2 and rate.questions[1] == "C'est quoi une variable ?"
    assert rate.styled == [preference_eval.preferred_style(a) for a in rate.answers]
    other = preference_eval.StyleRate(
        "m", "après", ["q", "q2"], ["Oui.", "Tu vois."], [True, True], True
    )
    table = preference_eval.compare([rate, other])
    assert table.headers[2] == "style préféré" and table.rows[1][2] == "2/2"
    assert "style préféré" in repr(other.table())
    assert "2/2 réponses dans le style préféré (100" in other.headline()
    assert "<svg" in preference_eval.chart([rate, other])._repr_svg_()
    del api
