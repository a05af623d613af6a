"""BM25 committee members and baselines: ``bm25s`` (default, batched sparse scoring) and ``rank-bm25``.

Both share one tokenizer (``bm25s.tokenize``: lower-case, the ``\\w\\w+`` token pattern, optional English stop
words, optional PyStemmer stemmer), so they differ only in the scoring engine:

- :class:`BM25sRetriever` keeps bm25s' precomputed term-document score matrix and scores a whole batch of queries
  with one sparse product ``(n_queries, vocab) @ (vocab, n_docs)``: identical to ``bm25s.BM25.get_scores`` per
  query (repeated query terms count repeatedly), a few milliseconds per thousand queries.
- :class:`RankBM25Retriever` wraps ``rank_bm25.BM25Okapi`` (what the reference code used); it loops over every
  document in Python for each query term, so it costs tens of milliseconds per query on a 5,000-document corpus
  (``bench/committee.py`` prints the figure).

Example:
    >>> r = BM25sRetriever()
    >>> r.fit(["d1", "d2"], ["cats purr softly", "dogs bark loudly"])
    >>> r.search(["a barking dog"], k=1)[1].tolist()
    [[1]]
"""

from __future__ import annotations

import logging

import numpy as np
import scipy.sparse as sp

from o1embed.tasks.errors import ConfigError

log = logging.getLogger(__name__)


class BM25Tokenizer:
    """The shared BM25 text analysis.

    Args:
        lower: lower-case before splitting.
        stopwords: ``"en"`` for bm25s' English list, None for none, or an explicit list.
        stemmer: a PyStemmer language (``"english"``) or None.
    """

    def __init__(self, lower: bool = True, stopwords: str | list[str] | None = "en", stemmer: str | None = "english"):
        self.lower, self.stopwords, self.stemmer_name = lower, stopwords, stemmer
        self._stemmer = None
        if stemmer:
            import Stemmer

            try:
                self._stemmer = Stemmer.Stemmer(stemmer)
            except KeyError as exc:
                raise ConfigError(f"PyStemmer has no stemmer {stemmer!r}") from exc

    def __call__(self, texts: list[str]) -> list[list[str]]:
        """Return each text's tokens (stemmed strings); an empty text gives an empty list."""
        import bm25s

        if not texts:
            return []
        out = bm25s.tokenize(
            list(texts),
            lower=self.lower,
            stopwords=self.stopwords or [],
            stemmer=self._stemmer,
            return_ids=False,
            show_progress=False,
        )
        return [[t for t in toks if t] for toks in out]


def _check_fitted(obj, attr: str) -> None:
    if getattr(obj, attr, None) is None:
        raise RuntimeError(f"{type(obj).__name__}.fit() must be called before scoring")


class BM25sRetriever:
    """BM25 via ``bm25s`` with batched sparse scoring.

    Args:
        name: member name.
        k1, b: BM25 parameters (bm25s defaults 1.5 / 0.75).
        method: bm25s scoring variant (``lucene``, ``robertson``, ``atire``, ``bm25l``, ``bm25+``).
        lower, stopwords, stemmer: see :class:`BM25Tokenizer`.
    """

    def __init__(
        self,
        name: str = "bm25",
        k1: float = 1.5,
        b: float = 0.75,
        method: str = "lucene",
        lower: bool = True,
        stopwords: str | list[str] | None = "en",
        stemmer: str | None = "english",
    ):
        self.name, self.k1, self.b, self.method = name, k1, b, method
        self.tokenizer = BM25Tokenizer(lower, stopwords, stemmer)
        self._matrix: sp.csr_matrix | None = None  # (vocab, n_docs)
        self._matrix_csc: sp.csc_matrix | None = None
        self._nonocc: np.ndarray | None = None  # (vocab,) for bm25l / bm25+
        self._vocab: dict[str, int] = {}
        self.doc_ids: list[str] = []

    def fit(self, doc_ids: list[str], texts: list[str]) -> None:
        """Index the corpus with bm25s and keep its term-document score matrix."""
        import bm25s

        if not doc_ids:
            raise ConfigError("cannot fit BM25 on an empty corpus")
        model = bm25s.BM25(k1=self.k1, b=self.b, method=self.method)
        model.index(self.tokenizer(texts), show_progress=False)
        s = model.scores
        self._vocab = dict(model.vocab_dict)
        self._matrix = sp.csr_matrix(
            (s["data"], s["indices"], s["indptr"]),
            shape=(len(s["indptr"]) - 1, s["num_docs"]),
            dtype=np.float32,
        )
        self._matrix_csc = None
        self._nonocc = getattr(model, "nonoccurrence_array", None)
        self.doc_ids = list(doc_ids)

    def _query_matrix(self, queries: list[str]) -> sp.csr_matrix:
        """Term counts ``(n_queries, vocab)``; terms outside the corpus vocabulary are dropped."""
        rows, cols = [], []
        for i, toks in enumerate(self.tokenizer(queries)):
            ids = [self._vocab[t] for t in toks if t in self._vocab]
            rows.extend([i] * len(ids))
            cols.extend(ids)
        data = np.ones(len(rows), dtype=np.float32)
        return sp.csr_matrix((data, (rows, cols)), shape=(len(queries), self._matrix.shape[0]))

    def score(self, queries: list[str], doc_index: np.ndarray | None = None) -> np.ndarray:
        """Scores ``(n_queries, n_docs)`` (or over ``doc_index`` columns), equal to bm25s ``get_scores``."""
        _check_fitted(self, "_matrix")
        q = self._query_matrix(queries)  # (n_q, vocab)
        if doc_index is None:
            m = self._matrix
        else:
            if self._matrix_csc is None:
                self._matrix_csc = self._matrix.tocsc()
            m = self._matrix_csc[:, np.asarray(doc_index)]
        out = np.asarray((q @ m).todense(), dtype=np.float32)  # (n_q, n_cols)
        if self._nonocc is not None:
            out += np.asarray(q @ self._nonocc, dtype=np.float32)[:, None]
        return out

    def search(self, queries: list[str], k: int) -> tuple[np.ndarray, np.ndarray]:
        from o1embed.tasks.retrievers.base import top_k

        return top_k(self.score(queries), k)


class RankBM25Retriever:
    """BM25 via ``rank_bm25.BM25Okapi`` behind the same interface (one Python pass over the corpus per query).

    Args:
        name: member name.
        k1, b, epsilon: BM25Okapi parameters.
        lower, stopwords, stemmer: see :class:`BM25Tokenizer`.
    """

    def __init__(
        self,
        name: str = "rank_bm25",
        k1: float = 1.5,
        b: float = 0.75,
        epsilon: float = 0.25,
        lower: bool = True,
        stopwords: str | list[str] | None = "en",
        stemmer: str | None = "english",
    ):
        self.name, self.k1, self.b, self.epsilon = name, k1, b, epsilon
        self.tokenizer = BM25Tokenizer(lower, stopwords, stemmer)
        self._model = None
        self.doc_ids: list[str] = []

    def fit(self, doc_ids: list[str], texts: list[str]) -> None:
        from rank_bm25 import BM25Okapi

        if not doc_ids:
            raise ConfigError("cannot fit BM25 on an empty corpus")
        self._model = BM25Okapi(self.tokenizer(texts), k1=self.k1, b=self.b, epsilon=self.epsilon)
        self.doc_ids = list(doc_ids)

    def score(self, queries: list[str], doc_index: np.ndarray | None = None) -> np.ndarray:
        _check_fitted(self, "_model")
        toks = self.tokenizer(queries)
        if doc_index is None:
            rows = [self._model.get_scores(t) for t in toks]
        else:
            idx = [int(i) for i in doc_index]
            rows = [self._model.get_batch_scores(t, idx) for t in toks]
        n = len(self.doc_ids) if doc_index is None else len(doc_index)
        return np.asarray(rows, dtype=np.float32).reshape(len(queries), n)

    def search(self, queries: list[str], k: int) -> tuple[np.ndarray, np.ndarray]:
        from o1embed.tasks.retrievers.base import top_k

        return top_k(self.score(queries), k)
