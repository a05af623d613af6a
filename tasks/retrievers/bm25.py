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
        search_postings: None for an exact :meth:`search`; N for an approximate one over an impact-ordered,
            statically pruned index (Carmel et al., SIGIR 2001): every term keeps its N highest-scoring
            documents, so a search reads at most N postings per query term, whatever the corpus size; the
            documents it proposes are rescored exactly (:meth:`search`). :meth:`score` and :meth:`score_pools`
            stay exact. For the committee's pool search on large corpora (``bench/pool_search.py`` measures its
            recall against the exact top-N).
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
        search_postings: int | None = None,
    ):
        if search_postings is not None and search_postings < 1:
            raise ConfigError(f"search_postings must be >= 1 or None, got {search_postings}")
        self.name, self.k1, self.b, self.method = name, k1, b, method
        self.search_postings = search_postings
        self.tokenizer = BM25Tokenizer(lower, stopwords, stemmer)
        self._matrix: sp.csr_matrix | None = None  # (vocab, n_docs)
        self._matrix_csc: sp.csc_matrix | None = None
        self._pruned: sp.csr_matrix | None = None  # (vocab, n_docs), at most search_postings per row
        self._hot: dict[int, np.ndarray] = {}  # term -> (n_docs,) weights, for the terms of the longest postings
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
        self._matrix.sort_indices()  # ascending documents in every term's row (the ties of the pruned index)
        self._matrix_csc = self._pruned = None
        self._hot = {}
        self._nonocc = getattr(model, "nonoccurrence_array", None)
        self.doc_ids = list(doc_ids)
        if self.search_postings is not None:
            self._pruned_index()
            self._build_hot_rows()

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
            m = self._doc_major()[:, np.asarray(doc_index)]
        out = np.asarray((q @ m).todense(), dtype=np.float32)  # (n_q, n_cols)
        if self._nonocc is not None:
            out += np.asarray(q @ self._nonocc, dtype=np.float32)[:, None]
        return out

    def _doc_major(self) -> sp.csc_matrix:
        """The score matrix by document ``(vocab, n_docs)`` in CSC: column ``d`` holds document ``d``'s terms."""
        if self._matrix_csc is None:
            self._matrix_csc = self._matrix.tocsc()
        return self._matrix_csc

    def score_pools(self, queries: list[str], pool_of: np.ndarray, pools: np.ndarray) -> np.ndarray:
        """Scores ``(n_s, P)`` of each query over its own pool (see :func:`~.base.score_pools`), equal to
        :meth:`score` on those columns.

        Per pool, only its documents' weights for the pool's query terms are read: a dense ``(P, terms)`` block,
        so the cost follows the pool's size and the queries' lengths, never the corpus or the vocabulary.
        """
        _check_fitted(self, "_matrix")
        q = self._query_matrix(queries)  # (n_s, vocab) term counts
        by_doc = self._doc_major()
        out = np.zeros((len(queries), pools.shape[1]), dtype=np.float32)
        for p in np.unique(pool_of):
            rows = np.flatnonzero(pool_of == p)
            docs = pools[p][pools[p] >= 0]
            qp = q[rows].tocoo()  # (n_r, vocab), one entry per (row, term)
            terms = np.unique(qp.col)  # ascending
            if not len(terms) or not len(docs):
                continue
            sub = by_doc[:, docs]  # (vocab, n_d): the pool's documents
            slot = np.minimum(np.searchsorted(terms, sub.indices), len(terms) - 1)
            hit = terms[slot] == sub.indices  # the stored weights of a query term
            doc_of = np.repeat(np.arange(len(docs)), np.diff(sub.indptr))
            w = np.zeros((len(docs), len(terms)), dtype=np.float32)  # (n_d, T)
            w[doc_of[hit], slot[hit]] = sub.data[hit]
            counts = np.zeros((len(rows), len(terms)), dtype=np.float32)  # (n_r, T)
            counts[qp.row, np.searchsorted(terms, qp.col)] = qp.data
            out[rows, : len(docs)] = counts @ w.T  # (n_r, n_d)
        if self._nonocc is not None:
            out += np.asarray(q @ self._nonocc, dtype=np.float32)[:, None]
        return out

    RESCORED = 4
    """An approximate search rescores this many times ``k`` of the pruned index's best documents exactly."""

    def search(self, queries: list[str], k: int) -> tuple[np.ndarray, np.ndarray]:
        """Top-``k`` ``(scores, columns)``, best first, ties by lower column: exact, or approximate with
        ``search_postings``.

        Approximate: the pruned index proposes each query's :attr:`RESCORED` ``* k`` best documents (by the terms
        that kept them), those are rescored exactly, and the ``k`` best by exact score are returned, so every
        returned score is the document's exact score; a document is missed only when the pruned index did not
        propose it.
        """
        from o1embed.tasks.retrievers.base import top_k

        if self.search_postings is None:
            return top_k(self.score(queries), k)
        _check_fitted(self, "_matrix")
        q = self._query_matrix(queries)  # (n_q, vocab)
        found = (q @ self._pruned_index()).tocsr()  # (n_q, n_docs), at most search_postings per query term
        shift = np.asarray(q @ self._nonocc, dtype=np.float32) if self._nonocc is not None else np.zeros(len(queries))
        k = min(k, found.shape[1])
        depth = min(self.RESCORED * k, found.shape[1])
        scores = np.empty((len(queries), k), dtype=np.float32)
        cols = np.empty((len(queries), k), dtype=np.int64)
        for i in range(len(queries)):
            lo, hi = found.indptr[i], found.indptr[i + 1]
            proposed = _best_columns(found.data[lo:hi], found.indices[lo:hi], depth)
            exact = self._exact_scores(q.indices[q.indptr[i] : q.indptr[i + 1]], q.data[q.indptr[i] : q.indptr[i + 1]],
                                       proposed)  # fmt: skip
            best = _best_columns(exact, proposed, k)
            order = np.lexsort((best, -exact[np.searchsorted(proposed, best)]))
            cols[i] = best[order]
            scores[i] = exact[np.searchsorted(proposed, cols[i])] + shift[i]
        return scores, cols

    def _exact_scores(self, terms: np.ndarray, counts: np.ndarray, docs: np.ndarray) -> np.ndarray:
        """The exact scores ``(n_d,)`` (without the bm25l/bm25+ shift) of ascending ``docs`` for one query's terms
        and counts, summed in the order :meth:`score`'s sparse product sums them (same float32 values).

        A term's weights are read from its dense row where it has one (:meth:`_build_hot_rows`: one lookup per
        document), else by a binary search of its posting list."""
        m = self._matrix
        out = np.zeros(len(docs), dtype=np.float32)
        docs = docs.astype(m.indices.dtype)  # as the postings' (numpy would otherwise convert the whole posting)
        for t, c in zip(terms, counts, strict=True):
            if (row := self._hot.get(int(t))) is not None:
                out += np.float32(c) * row[docs]  # 0 where the document lacks the term, as below
                continue
            posting = m.indices[m.indptr[t] : m.indptr[t + 1]]  # ascending documents
            if not len(posting):
                continue
            at = np.minimum(np.searchsorted(posting, docs), len(posting) - 1)
            hit = posting[at] == docs
            out += np.where(hit, np.float32(c) * m.data[m.indptr[t] + at], np.float32(0))
        return out

    HOT_SHARE = 1 / 8
    """A term in at least this share of the documents gets a dense row of weights for the exact rescoring."""

    def _build_hot_rows(self) -> None:
        """Dense ``(n_docs,)`` weight rows (``_hot``) of the terms in at least :attr:`HOT_SHARE` of the documents.

        Rescoring reads a proposed document's weight for each query term; in a long posting list that is a binary
        search with a cache miss at every step, the most expensive part of an approximate search at 1M documents.
        A dense row makes it one lookup. Memory: 4 bytes per document per such term, at most 4 times those terms'
        own postings (8 bytes per entry); with Zipf-distributed words a few dozen terms, about half of the query
        tokens.
        """
        m = self._matrix
        self._hot = {}
        for t in np.flatnonzero(np.diff(m.indptr) >= self.HOT_SHARE * m.shape[1]):
            row = np.zeros(m.shape[1], dtype=np.float32)
            row[m.indices[m.indptr[t] : m.indptr[t + 1]]] = m.data[m.indptr[t] : m.indptr[t + 1]]
            self._hot[int(t)] = row

    def _pruned_index(self) -> sp.csr_matrix:
        """The score matrix with, in every term's row, only its ``search_postings`` highest scores (built once)."""
        if self._pruned is None:
            m, n = self._matrix, self.search_postings
            keep = np.ones(m.nnz, dtype=bool)
            for t in np.flatnonzero(np.diff(m.indptr) > n):
                lo, hi = m.indptr[t], m.indptr[t + 1]
                row = m.data[lo:hi]
                # the n highest; among equal scores at the boundary, the lower columns (indices are sorted)
                order = np.lexsort((np.arange(hi - lo), -row))
                keep[lo:hi] = False
                keep[lo + order[:n]] = True
            rows = np.repeat(np.arange(m.shape[0]), np.diff(m.indptr))[keep]
            self._pruned = sp.csr_matrix((m.data[keep], (rows, m.indices[keep])), shape=m.shape, dtype=np.float32)
        return self._pruned


def _best_columns(row_s: np.ndarray, row_c: np.ndarray, k: int) -> np.ndarray:
    """The columns, ascending, of the ``k`` best scores of one sparse row (``row_s`` at columns ``row_c``; every
    other column scores 0): ties at the ``k``-th score go to the lower columns, and a row with fewer than ``k``
    entries is filled with the lowest columns outside it. O(entries), no sort of the row."""
    if len(row_c) > k:
        kth = np.partition(row_s, len(row_s) - k)[len(row_s) - k]
        above = np.flatnonzero(row_s > kth)
        tied = np.flatnonzero(row_s == kth)
        tied = tied[np.argsort(row_c[tied], kind="stable")[: k - len(above)]]
        row_c = row_c[np.concatenate([above, tied])]
    elif len(row_c) < k:
        row_c = np.concatenate([row_c, np.setdiff1d(np.arange(k + len(row_c)), row_c)[: k - len(row_c)]])
    return np.sort(row_c).astype(np.int64)


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
