"""The committee-member / baseline interface shared by BM25 and dense retrievers, and ranking helpers.

A retriever is fitted once on the whole corpus, then scores batches of search queries against every document (or a
subset of columns). Ranks are 1-based and ties are broken by document position (a stable order), so a rank computed
from a score row always agrees with the order :func:`top_k` returns.

Example:
    >>> import numpy as np
    >>> scores = np.array([[0.1, 0.9, 0.9, 0.3]], dtype=np.float32)
    >>> rank_of(scores, np.array([2])).tolist()        # doc 1 ties with doc 2 and comes first
    [2]
    >>> top_k(scores, 2)[1].tolist()
    [[1, 2]]
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class Retriever(Protocol):
    """A ranking function fitted on one corpus.

    Attributes:
        name: a short, stable name (used as the committee member's name in tables).
    """

    name: str

    def fit(self, doc_ids: list[str], texts: list[str]) -> None:
        """Index the whole corpus once (document ``i`` is column ``i`` of every score matrix)."""
        ...

    def score(self, queries: list[str], doc_index: np.ndarray | None = None) -> np.ndarray:
        """Return scores ``(n_queries, n_docs)``, or ``(n_queries, len(doc_index))`` over those columns."""
        ...

    def search(self, queries: list[str], k: int) -> tuple[np.ndarray, np.ndarray]:
        """Return the top-``k`` ``(scores, indices)``, each ``(n_queries, k)``, best first."""
        ...


def score_pools(retriever: Retriever, queries: list[str], pool_of: np.ndarray, pools: np.ndarray) -> np.ndarray:
    """Score each query over its own pool of documents: ``(n_s, P)``, ``-inf`` where a pool is padded.

    The committee's pooled judging ranks every search query of a training query in that query's pool (about
    ``pool_top_n`` documents), so only those pairs are scored: the cost per query is the pool's size, not the
    corpus's, nor the union of a batch's pools. A retriever with its own ``score_pools`` method (BM25s, dense)
    scores just the pairs; any other scores the union of the pools with one :meth:`Retriever.score` call and keeps
    each row's own columns (same values).

    Args:
        retriever: a fitted retriever.
        queries: ``n_s`` search queries.
        pool_of: ``(n_s,)`` each query's row of ``pools``.
        pools: ``(n_p, P)`` corpus positions, ascending in each row, ``-1`` pads at the end.

    Returns:
        ``(n_s, P)`` float32 scores; column ``j`` of row ``i`` is the score of document ``pools[pool_of[i], j]``.
    """
    pool_of = np.asarray(pool_of, dtype=np.int64)
    own = getattr(retriever, "score_pools", None)
    if own is not None:
        out = np.asarray(own(queries, pool_of, pools), dtype=np.float32)
    else:
        union = np.unique(pools[pools >= 0])  # sorted corpus positions
        full = retriever.score(queries, doc_index=union)  # (n_s, |union|)
        cols = np.searchsorted(union, np.maximum(pools, 0))[pool_of]  # (n_s, P)
        out = np.take_along_axis(full, cols, axis=1).astype(np.float32)
    out[pools[pool_of] < 0] = -np.inf
    return out


def rank_of(scores: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Return the 1-based rank of column ``cols[i]`` in row ``i`` of ``scores``.

    Rank = 1 + documents with a higher score + documents with an equal score at a lower column, i.e. the position in
    a stable descending sort. Columns masked with ``-inf`` rank last.

    Args:
        scores: ``(n, d)`` score matrix.
        cols: ``(n,)`` column per row.

    Returns:
        ``(n,)`` int64 ranks.
    """
    n, d = scores.shape
    s = scores[np.arange(n), cols][:, None]  # (n, 1)
    greater = (scores > s).sum(axis=1)
    ties_before = ((scores == s) & (np.arange(d)[None, :] < cols[:, None])).sum(axis=1)
    return (1 + greater + ties_before).astype(np.int64)


def top_k(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Return the top-``k`` ``(scores, columns)`` of each row, best first, ties by lower column.

    Args:
        scores: ``(n, d)``.
        k: how many; clipped to ``d``.

    Returns:
        ``(n, k)`` scores and ``(n, k)`` int64 columns.
    """
    n, d = scores.shape
    k = min(k, d)
    if k == 0:
        return np.zeros((n, 0), dtype=scores.dtype), np.zeros((n, 0), dtype=np.int64)
    if np.isnan(scores).any():  # a NaN score ranks last, as -inf
        scores = np.where(np.isnan(scores), -np.inf, scores)
    if k < d:
        part = _unordered_top(scores, k)  # (n, k)
        # The selection does not respect the tie order at the boundary: in a row where more columns tie with the
        # k-th score than it kept, keep the tied columns with the lowest index (a sparse BM25 row ties thousands
        # of zeros). Only those rows are redone, in O(d) each, never a sort of the whole matrix.
        kept = np.take_along_axis(scores, part, axis=1)  # (n, k)
        kth = kept.min(axis=1, keepdims=True)  # (n, 1)
        for r in np.flatnonzero((scores == kth).sum(axis=1) > (kept == kth).sum(axis=1)):
            above = np.flatnonzero(scores[r] > kth[r, 0])
            tied = np.flatnonzero(scores[r] == kth[r, 0])[: k - len(above)]  # ascending columns
            part[r] = np.concatenate([above, tied])
    else:
        part = np.broadcast_to(np.arange(d), (n, d))
    vals = np.take_along_axis(scores, part, axis=1)
    # sort by (-score, column)
    order = np.lexsort((part, -vals), axis=1)
    cols = np.take_along_axis(part, order, axis=1)
    return np.take_along_axis(vals, order, axis=1), cols.astype(np.int64)


def _unordered_top(scores: np.ndarray, k: int) -> np.ndarray:
    """Columns ``(n, k)`` of each row's ``k`` largest scores, in no order; which of several columns tied with the
    ``k``-th score are kept is arbitrary.

    ``torch.topk`` (a partial selection in C++): on the committee's pooled search, 64 rows of a 1M-document corpus
    with ``k = 1000``, it took 0.18 s where numpy's ``argpartition`` took 1.65 s (one thread), and that selection was
    60% of a dense member's judging at 1M documents (``bench/scale.py``).
    """
    import torch

    return torch.from_numpy(np.ascontiguousarray(scores)).topk(k, dim=1, sorted=False).indices.numpy()
