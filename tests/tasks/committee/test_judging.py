"""judge_batch: pooled judging scores each training query's own pool and gives what scoring the union gave."""

from __future__ import annotations

import numpy as np
import pytest

from o1embed.tasks.committee.judging import JudgeRequest, judge_batch
from o1embed.tasks.retrievers import BM25sRetriever
from o1embed.tasks.retrievers.dense import DenseRetriever


class UnionOnly:
    """A retriever without ``score_pools``: pooled judging scores the union of the pools with ``score``."""

    def __init__(self, inner):
        self.inner, self.name = inner, inner.name

    def fit(self, doc_ids, texts):
        self.inner.fit(doc_ids, texts)

    def score(self, queries, doc_index=None):
        return self.inner.score(queries, doc_index)

    def search(self, queries, k):
        return self.inner.search(queries, k)


def corpus(n: int = 400, seed: int = 0) -> tuple[list[str], list[str]]:
    rng = np.random.default_rng(seed)
    words = [f"w{i}" for i in range(60)]
    p = 1 / np.arange(1, 61)
    texts = [" ".join(rng.choice(words, rng.integers(5, 15), p=p / p.sum())) for _ in range(n)]
    return [f"d{i}" for i in range(n)], texts


def request(texts: list[str], pool_top_n: int, seed: int = 1) -> JudgeRequest:
    rng = np.random.default_rng(seed)
    strings, string_query, positives, base_rows = [], [], [], []
    for q in range(12):
        pos = rng.choice(len(texts), rng.integers(1, 3), replace=False)
        base_rows.append(len(strings))
        bare = " ".join(texts[pos[0]].split()[:3])
        strings += [bare, bare + " " + texts[rng.integers(len(texts))], bare + " " + texts[pos[-1]]]
        string_query += [q] * 3
        positives.append(np.sort(pos))
    return JudgeRequest(strings, np.array(string_query), positives, np.array(base_rows), pool_top_n, depth=20)


@pytest.fixture(params=["bm25s", "dense"])
def fitted(request, tiny_dense_model):
    ids, texts = corpus()
    r = BM25sRetriever() if request.param == "bm25s" else DenseRetriever(tiny_dense_model, cache=False)
    r.fit(ids, texts)
    return r, texts


@pytest.mark.parametrize("pool_top_n", [10, 50])
def test_pool_judgement_equals_the_one_over_the_union_of_pools(fitted, pool_top_n):
    retriever, texts = fitted
    req = request(texts, pool_top_n)
    own, union = judge_batch(retriever, req), judge_batch(UnionOnly(retriever), req)
    np.testing.assert_array_equal(own.best_positive, union.best_positive)
    np.testing.assert_array_equal(own.rank, union.rank)
    np.testing.assert_allclose(own.score, union.score, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(own.pool_size, union.pool_size)
    np.testing.assert_array_equal(own.top_idx, union.top_idx)
    assert (own.pool_size <= pool_top_n + 2).all() and (own.rank <= own.pool_size).all()


def test_a_positive_ranks_within_its_own_pool(fitted):
    retriever, texts = fitted
    req = request(texts, 10)
    got = judge_batch(retriever, req)
    full = judge_batch(retriever, JudgeRequest(req.strings, req.string_query, req.positives, req.base_rows, None, 20))
    assert (got.rank <= full.rank).all()  # a pool holds fewer documents than the corpus, never more
    assert np.isin(got.best_positive, np.concatenate(req.positives)).all()
