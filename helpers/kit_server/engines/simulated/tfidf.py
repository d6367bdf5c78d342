"""TF-IDF over character n-grams inside word boundaries, on numpy and scipy.sparse.

An exact reimplementation of what the simulated engine used from scikit-learn,
`TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True,
strip_accents="unicode", lowercase=True)`, without importing scikit-learn (≈ 120 MB and 2 s
in the kit server). It follows scikit-learn's own steps, in its order, so that the vocabulary,
the matrices (the order of the entries in each row too) and every float are the same as
recent scikit-learn's (1.3 reorders each row's entries before the l2 norm, so a value there
may differ in the last bit); `tests/test_tfidf.py` checks it against scikit-learn.
"""

from __future__ import annotations

import unicodedata

import numpy as np
import scipy.sparse as sp

NGRAM_RANGE = (2, 4)


def _strip_accents(text: str) -> str:
    """NFKD, then without its combining characters (ASCII text is returned as is)."""
    if text.isascii():
        return text
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def char_wb_ngrams(text: str) -> list[str]:
    """The 2- to 4-grams of each word (lowercased, without accents) padded with one space.

    A word shorter than n is counted once, as a whole, not again for larger n."""
    # scikit-learn first turns runs of whitespace (`\s\s+`) into one space: nothing that
    # str.split() would see (`re`'s \s and str.split() know the same 29 characters).
    low, high = NGRAM_RANGE
    ngrams: list[str] = []
    for word in _strip_accents(text.lower()).split():
        w = f" {word} "
        for n in range(low, high + 1):
            ngrams.extend(w[i : i + n] for i in range(max(1, len(w) - n + 1)))
            if len(w) <= n:  # the whole padded word is already counted
                break
    return ngrams


class CharTfidf:
    """Sublinear tf, smoothed idf, l2-normalised rows (scikit-learn's defaults otherwise)."""

    def __init__(self) -> None:
        self.vocabulary: dict[str, int] = {}
        self.idf: np.ndarray = np.zeros(0)

    def fit_transform(self, texts: list[str]) -> sp.csr_matrix:
        """Learn the vocabulary and the idf of `texts`; their TF-IDF rows.

        Raises ValueError when the texts hold no n-gram (empty or whitespace only)."""
        seen: dict[str, int] = {}  # n-gram -> index in order of first appearance
        values, indices, indptr = self._counts(texts, seen, grow=True)
        if not seen:
            raise ValueError("empty vocabulary: the texts hold no word")
        # Columns in sorted n-gram order; each row keeps its entries in order of first
        # appearance in the corpus, as scikit-learn leaves them (its norms sum in that order).
        terms = sorted(seen)
        column = np.empty(len(terms), dtype=np.int32)
        for new, term in enumerate(terms):
            column[seen[term]] = new
        indices = column[indices]
        self.vocabulary = {term: i for i, term in enumerate(terms)}
        df = np.bincount(indices, minlength=len(terms)).astype(np.float64)
        df += 1.0
        self.idf = np.full_like(df, len(texts) + 1)
        self.idf /= df
        np.log(self.idf, out=self.idf)
        self.idf += 1.0
        return self._weigh(values, indices, indptr)

    def transform(self, texts: list[str]) -> sp.csr_matrix:
        """TF-IDF rows of `texts` over the fitted vocabulary (unknown n-grams are dropped)."""
        return self._weigh(*self._counts(texts, self.vocabulary, grow=False))

    def _counts(
        self, texts: list[str], vocabulary: dict[str, int], *, grow: bool
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """n-gram counts in CSR arrays, each row's entries sorted by index in `vocabulary`."""
        indices: list[int] = []
        values: list[int] = []
        indptr = [0]
        for text in texts:
            counter: dict[int, int] = {}
            for gram in char_wb_ngrams(text):
                idx = vocabulary.get(gram)
                if idx is None:
                    if not grow:
                        continue
                    idx = vocabulary[gram] = len(vocabulary)
                counter[idx] = counter.get(idx, 0) + 1
            for idx in sorted(counter):
                indices.append(idx)
                values.append(counter[idx])
            indptr.append(len(indices))
        return (
            np.array(values, dtype=np.float64),
            np.array(indices, dtype=np.int32),
            np.array(indptr, dtype=np.int32),
        )

    def _weigh(self, data: np.ndarray, indices: np.ndarray, indptr: np.ndarray) -> sp.csr_matrix:
        """log(count) + 1, times the idf, then each row divided by its l2 norm."""
        np.log(data, out=data)
        data += 1.0
        data *= self.idf[indices]
        # Squares summed one entry after the other in each row's stored order, as
        # scikit-learn's loop does (numpy's pairwise sums could differ in the last bit):
        # bincount adds its weights in input order, from 0.0, in one pass.
        lengths = np.diff(indptr)
        rows = np.repeat(np.arange(len(lengths)), lengths)
        norms = np.bincount(rows, weights=data * data, minlength=len(lengths)).astype(np.float64)
        np.sqrt(norms, out=norms)
        norms[norms == 0.0] = 1.0  # empty rows stay zero
        data /= np.repeat(norms, lengths)
        return sp.csr_matrix((data, indices, indptr), shape=(len(lengths), len(self.idf)))
