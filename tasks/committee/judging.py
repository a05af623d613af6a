"""One member's judgement of a batch of search queries: where does the best positive rank?

A *request* holds search queries (bare queries and query + thought) for a batch of training queries, which query
each belongs to, and each query's positive documents (as corpus positions). A member answers, for every search
query, the best-ranked positive, its rank and score within the pool, and its own top documents (for mining hard
negatives). The pool is the whole corpus, or (``pool_top_n``) the member's top-N for the bare query joined with the
positives. One call scores the whole batch: one encoder pass, one matrix product; in a pool, only each training
query's own pool is scored (:func:`~o1embed.tasks.retrievers.base.score_pools`), so the cost per string follows
``pool_top_n``, not the corpus.

Example:
    >>> import numpy as np
    >>> from o1embed.tasks.retrievers import BM25sRetriever
    >>> r = BM25sRetriever(); r.fit(["a", "b", "c"], ["cats purr", "dogs bark", "stocks fell"])
    >>> req = JudgeRequest(strings=["pets", "pets dogs bark"], string_query=np.array([0, 0]),
    ...                    positives=[np.array([1])], base_rows=np.array([0]))
    >>> judge_batch(r, req).rank.tolist()
    [2, 1]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from o1embed.tasks.retrievers.base import Retriever, rank_of, score_pools, top_k


@dataclass
class JudgeRequest:
    """Search queries of a batch of training queries.

    Attributes:
        strings: search queries, ``n_s`` of them.
        string_query: ``(n_s,)`` index of each string's training query (into ``positives``).
        positives: per training query, its positive documents' corpus positions (non-empty).
        base_rows: per training query, the row of its bare-query string (used for the pool).
        pool_top_n: None for the whole corpus, else the pool size from the bare-query search.
        depth: how many top documents to return per string.
    """

    strings: list[str]
    string_query: np.ndarray
    positives: list[np.ndarray]
    base_rows: np.ndarray
    pool_top_n: int | None = None
    depth: int = 100


@dataclass
class MemberJudgement:
    """A member's answer; every array has one row per string.

    Attributes:
        member: the member's name.
        best_positive: ``(n_s,)`` corpus position of the best-ranked positive.
        rank: ``(n_s,)`` its 1-based rank in the pool.
        score: ``(n_s,)`` the member's score of it.
        pool_size: ``(n_s,)`` documents in the pool.
        top_idx: ``(n_s, depth)`` corpus positions of the member's top documents, best first (-1 pads).
        top_score: ``(n_s, depth)`` their scores (-inf pads).
        seconds: time spent scoring.
    """

    member: str
    best_positive: np.ndarray
    rank: np.ndarray
    score: np.ndarray
    pool_size: np.ndarray
    top_idx: np.ndarray
    top_score: np.ndarray
    seconds: float = 0.0

    def take(self, rows: np.ndarray) -> MemberJudgement:
        """The judgement restricted to ``rows``."""
        return MemberJudgement(
            self.member,
            self.best_positive[rows],
            self.rank[rows],
            self.score[rows],
            self.pool_size[rows],
            self.top_idx[rows],
            self.top_score[rows],
            self.seconds,
        )

    @staticmethod
    def concat(parts: list[MemberJudgement]) -> MemberJudgement:
        """Stack judgements of consecutive batches (same member)."""
        depth = max(p.top_idx.shape[1] for p in parts)

        def pad(a: np.ndarray, fill) -> np.ndarray:
            return np.pad(a, ((0, 0), (0, depth - a.shape[1])), constant_values=fill)

        return MemberJudgement(
            parts[0].member,
            np.concatenate([p.best_positive for p in parts]),
            np.concatenate([p.rank for p in parts]),
            np.concatenate([p.score for p in parts]),
            np.concatenate([p.pool_size for p in parts]),
            np.concatenate([pad(p.top_idx, -1) for p in parts]),
            np.concatenate([pad(p.top_score, -np.inf) for p in parts]),
            sum(p.seconds for p in parts),
        )


def _best_positive(scores: np.ndarray, request_pos: list[np.ndarray], string_query: np.ndarray, col_of):
    """Rank every (string, positive) pair and keep each string's best; ``col_of(rows, positions)`` maps the
    corpus positions of those rows' positives to columns of ``scores``."""
    counts = np.asarray([len(request_pos[q]) for q in string_query], dtype=np.int64)
    rows_a = np.repeat(np.arange(len(string_query), dtype=np.int64), counts)  # (n_pairs,)
    pos_a = np.concatenate([request_pos[q] for q in string_query]).astype(np.int64)  # (n_pairs,)
    cols_a = col_of(rows_a, pos_a)
    ranks = rank_of(scores[rows_a], cols_a)  # (n_pairs,)
    n_s = len(string_query)
    best_rank = np.full(n_s, np.iinfo(np.int64).max, dtype=np.int64)
    best_pos = np.full(n_s, -1, dtype=np.int64)
    best_col = np.zeros(n_s, dtype=np.int64)
    for i, (r, k) in enumerate(zip(rows_a, ranks, strict=True)):  # ranks are unique per row: no ties to break
        if k < best_rank[r]:
            best_rank[r], best_pos[r], best_col[r] = k, pos_a[i], cols_a[i]
    best_score = scores[np.arange(n_s), best_col]
    return best_pos, best_rank, best_score


def judge_batch(retriever: Retriever, request: JudgeRequest) -> MemberJudgement:
    """Score every string of ``request`` with one member, in one batched call.

    Args:
        retriever: a fitted retriever.
        request: the batch.

    Returns:
        The member's :class:`MemberJudgement`.

    Raises:
        ValueError: a training query has no positive.
    """
    import time

    t0 = time.perf_counter()
    if any(len(p) == 0 for p in request.positives):
        raise ValueError("every training query needs at least one positive document")
    string_query = np.asarray(request.string_query, dtype=np.int64)
    n_s = len(request.strings)
    if request.pool_top_n is None:
        scores = retriever.score(request.strings)  # (n_s, n_docs)
        n_docs = scores.shape[1]
        best_pos, best_rank, best_score = _best_positive(
            scores, request.positives, string_query, lambda rows, positions: positions
        )
        top_s, top_i = top_k(scores, request.depth)
        pool_size = np.full(n_s, n_docs, dtype=np.int64)
    else:
        base_strings = [request.strings[r] for r in request.base_rows]
        _, base_top = retriever.search(base_strings, request.pool_top_n)  # (n_q, N)
        # an approximate search may pad with column -1 when it finds fewer than pool_top_n
        pool_list = [np.union1d(t[t >= 0], p) for t, p in zip(base_top, request.positives, strict=True)]
        pools = np.full((len(pool_list), max(len(p) for p in pool_list)), -1, dtype=np.int64)  # (n_q, P)
        for q, pool in enumerate(pool_list):
            pools[q, : len(pool)] = pool  # ascending corpus positions, so ties still go to the lower position
        scores = score_pools(retriever, request.strings, string_query, pools)  # (n_s, P), -inf on the pads

        def col_of(rows: np.ndarray, positions: np.ndarray) -> np.ndarray:  # a positive's place in its pool
            row_pools = pools[string_query[rows]]  # (n_pairs, P)
            return ((row_pools >= 0) & (row_pools < positions[:, None])).sum(axis=1)

        best_pos, best_rank, best_score = _best_positive(scores, request.positives, string_query, col_of)
        top_s, top_cols = top_k(scores, request.depth)
        top_i = np.where(np.isfinite(top_s), np.take_along_axis(pools[string_query], top_cols, axis=1), -1)
        pool_size = np.asarray([len(pool_list[q]) for q in string_query], dtype=np.int64)
    return MemberJudgement(
        member=retriever.name,
        best_positive=best_pos,
        rank=best_rank,
        score=best_score.astype(np.float32),
        pool_size=pool_size,
        top_idx=top_i.astype(np.int64),
        top_score=top_s.astype(np.float32),
        seconds=time.perf_counter() - t0,
    )
