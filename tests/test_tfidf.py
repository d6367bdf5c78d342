"""simulated.tfidf: the same vocabulary, matrices and floats as scikit-learn's TfidfVectorizer."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import examples
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers.kit_server.engines.simulated.tfidf import CharTfidf, char_wb_ngrams

FRENCH = [
    "Bonjour",
    "Explique-moi le théorème de Pythagore",
    "Quelle est la capitale de l'Australie ?",
    "Peux-tu m'aider à écrire un courriel à mon propriétaire ?",
    "ÇA VA ? Où est l'hôtel de la Poste, à Noël ?",
    "Un cœur d'œuvre, une sœur et un bœuf : Œdipe",
    "Les ligatures ﬁ ﬂ ﬀ et l'exposant x² ou ½ (NFKD)",
    "Emoji 🎄🎉 👍🏽 et drapeau 🇫🇷 !",
    "tabulations\tet\tretours\nà la\r\nligne   et    espaces",
    "a à y ô i e ù",
    "",
    "   \t\n ",
    "İstanbul, ΣΊΣΥΦΟΣ, Straße, ǅemal",
    "Marque™, 5 ㎒ et ᴬᴮ (lowercased first: NFKD then gives capitals, kept as is)",
    "Bonjour bonjour BONJOUR bonjour !",
    "e\u0301te\u0301 (accents combinants) et\u00a0insécable\u2003cadratin",
]
QUERIES = [
    "bonjour",
    "Noël à l'hôtel",
    "œuvre",
    "",
    "  ",
    "xyz qwv",
    "Pythagore 🎄",
    "Quelle est la capitale de la France ?",
]
ALPHABET = list("abcdeéèêëàâçîïôœæùûüAÉÈÇŒÆ'?!.,- \t\n\r\x0b\x0c\u00a0\u2003\u0301ﬁﬂ²½🎄👍🏽ǅİß™ᴬ")


def _sklearn():
    # imported here, not at collection: scikit-learn takes seconds to import
    from sklearn.feature_extraction import text

    return text.TfidfVectorizer(
        analyzer="char_wb",
        ngram_range=(2, 4),
        sublinear_tf=True,
        strip_accents="unicode",
        lowercase=True,
    )


def _assert_same(ours, theirs, exact: bool) -> None:
    assert ours.shape == theirs.shape
    assert np.array_equal(ours.indptr, theirs.indptr)
    if exact:
        # The same entries in the same stored order (the similarities sum in that order).
        assert np.array_equal(ours.indices, theirs.indices)
        assert np.array_equal(ours.data, theirs.data)
        assert (ours != theirs).nnz == 0
    else:
        # Older scikit-learn (1.3, the oldest pins) multiplies by the idf through a sparse
        # diagonal-matrix product, which reorders each row's entries: its l2 norms sum the
        # same squares in another order, so a value may differ in the last bit.
        ours, theirs = ours.sorted_indices(), theirs.sorted_indices()
        assert np.array_equal(ours.indices, theirs.indices)
        assert np.allclose(ours.data, theirs.data, rtol=1e-12, atol=0)


def _compare(corpus: list[str], queries: list[str]) -> None:
    vectorizer, ours = _sklearn(), CharTfidf()
    try:
        expected = vectorizer.fit_transform(corpus)
    except ValueError:
        with pytest.raises(ValueError):
            ours.fit_transform(corpus)
        return
    got = ours.fit_transform(corpus)
    exact = not hasattr(vectorizer._tfidf, "_idf_diag")
    assert ours.vocabulary == vectorizer.vocabulary_
    assert list(ours.vocabulary) == sorted(vectorizer.vocabulary_)
    assert np.array_equal(ours.idf, vectorizer.idf_)
    _assert_same(got, expected, exact)
    if queries:  # scikit-learn refuses to transform no text; here, zero rows
        _assert_same(ours.transform(queries), vectorizer.transform(queries), exact)
    assert ours.transform([]).shape == (0, len(ours.vocabulary))
    _assert_same(ours.transform(corpus), vectorizer.transform(corpus), exact)


def test_ngrams_are_scikit_learns():
    analyze = _sklearn().build_analyzer()
    for doc in FRENCH + QUERIES:
        assert char_wb_ngrams(doc) == analyze(doc)
    assert char_wb_ngrams("a Bé") == [" a", "a ", " a ", " b", "be", "e ", " be", "be ", " be "]


def test_french_prompts():
    _compare(FRENCH, QUERIES)


def test_small_corpora():
    _compare(["Bonjour"], ["bonjour", "Bonsoir", ""])
    _compare(["", "a", "   "], ["a", "b"])
    _compare(["zz aa", "bb aa zz", "aa"], ["aa zz", "zz"])


def test_empty_vocabulary_is_a_value_error():
    for corpus in (["", "  \t\n", "\u2003"], [], [""]):
        with pytest.raises(ValueError):
            _sklearn().fit_transform(corpus)
        with pytest.raises(ValueError, match="empty vocabulary"):
            CharTfidf().fit_transform(corpus)


def test_transform_before_fit_is_empty():
    assert CharTfidf().transform(["bonjour"]).shape == (1, 0)


_texts = st.text(st.one_of(st.sampled_from(ALPHABET), st.characters()), max_size=30)


@settings(max_examples=examples(100), deadline=None)
@given(corpus=st.lists(_texts, min_size=1, max_size=8), queries=st.lists(_texts, max_size=4))
def test_generated_corpora(corpus, queries):
    analyze = _sklearn().build_analyzer()
    for doc in corpus + queries:
        assert char_wb_ngrams(doc) == analyze(doc)
    _compare(corpus, queries)
