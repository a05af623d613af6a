"""BM25 retrievers: batched bm25s scores equal bm25s' own, rank-bm25 equals BM25Okapi, one interface."""

from __future__ import annotations

import bm25s
import numpy as np
import pytest
import Stemmer
from rank_bm25 import BM25Okapi

from o1embed.tasks.errors import ConfigError
from o1embed.tasks.retrievers import (
    BM25sRetriever,
    RankBM25Retriever,
    Retriever,
    RetrieverSpec,
    rank_of,
    top_k,
)

DOCS = [
    "Cats purr softly when they are happy and running",
    "Dogs bark loudly at strangers; a barking dog",
    "The stock market fell sharply on Monday",
    "",
    "Running shoes help runners run faster than cats",
    "Proteins fold into structures; misfolded proteins cause disease",
]
IDS = [f"d{i}" for i in range(len(DOCS))]
QUERIES = ["running cats", "protein misfolding disease disease", "zzz unknown", "", "the dog barked"]


def test_bm25s_scores_equal_bm25s_get_scores():
    r = BM25sRetriever()
    r.fit(IDS, DOCS)
    ref = bm25s.BM25()
    stem = Stemmer.Stemmer("english")
    ref.index(bm25s.tokenize(DOCS, stopwords="en", stemmer=stem, show_progress=False), show_progress=False)
    got = r.score(QUERIES)
    assert got.shape == (len(QUERIES), len(DOCS))
    for i, q in enumerate(QUERIES):
        toks = bm25s.tokenize([q], stopwords="en", stemmer=stem, return_ids=False, show_progress=False)[0]
        toks = [t for t in toks if t in ref.vocab_dict]
        want = ref.get_scores(toks) if toks else np.zeros(len(DOCS))
        np.testing.assert_allclose(got[i], want, rtol=1e-5)
    assert (got[2] == 0).all() and (got[3] == 0).all()


@pytest.mark.parametrize("cls", [BM25sRetriever, RankBM25Retriever])
def test_subset_columns_and_search_agree(cls):
    r = cls()
    r.fit(IDS, DOCS)
    assert isinstance(r, Retriever)
    full = r.score(QUERIES)
    idx = np.array([5, 0, 2])
    np.testing.assert_allclose(r.score(QUERIES, doc_index=idx), full[:, idx], rtol=1e-6)
    s, i = r.search(QUERIES, 3)
    assert s.shape == i.shape == (len(QUERIES), 3)
    ts, ti = top_k(full, 3)
    np.testing.assert_array_equal(i, ti)
    assert (np.diff(s, axis=1) <= 0).all()


def test_rank_bm25_equals_bm25okapi():
    r = RankBM25Retriever(k1=1.2, b=0.6)
    r.fit(IDS, DOCS)
    ref = BM25Okapi(r.tokenizer(DOCS), k1=1.2, b=0.6)
    for q, row in zip(QUERIES, r.score(QUERIES), strict=True):
        np.testing.assert_allclose(row, ref.get_scores(r.tokenizer([q])[0]), rtol=1e-5)


def test_stemming_and_parameters_matter():
    plain = RetrieverSpec(kind="bm25s", k1=0.9, b=0.4, stemmer=None, stopwords=None).build()
    stem = RetrieverSpec(kind="bm25s").build()
    for r in (plain, stem):
        r.fit(IDS, DOCS)
    assert stem.score(["runs"])[0, 4] > 0 and plain.score(["runs"])[0, 4] == 0
    assert plain.name == "bm25s-k0.9-b0.4-nostem" and stem.name == "bm25"


def test_errors():
    with pytest.raises(ConfigError):
        BM25sRetriever().fit([], [])
    with pytest.raises(RuntimeError, match="fit"):
        BM25sRetriever().score(["x"])
    with pytest.raises(ConfigError, match="stemmer"):
        BM25sRetriever(stemmer="klingon")


def test_rank_of_is_the_stable_sort_position():
    scores = np.array([[0.5, 0.9, 0.5, 0.1], [1.0, 1.0, 1.0, 1.0]], dtype=np.float32)
    assert rank_of(scores, np.array([2, 3])).tolist() == [3, 4]
    order = np.argsort(-scores, axis=1, kind="stable")
    for row in range(2):
        for col in range(4):
            assert rank_of(scores[row : row + 1], np.array([col]))[0] == list(order[row]).index(col) + 1


def test_top_k_ties_at_the_boundary_follow_column_order():
    scores = np.array([[0.0, 2.0, 1.0, 1.0, 1.0, 3.0]])
    s, i = top_k(scores, 3)
    assert i.tolist() == [[5, 1, 2]] and s.tolist() == [[3.0, 2.0, 1.0]]
    assert top_k(scores, 10)[1].shape == (1, 6)


def test_top_k_ranks_a_nan_score_last():
    scores = np.array([[0.5, np.nan, 0.9, 0.1]], dtype=np.float32)
    assert top_k(scores, 3)[1].tolist() == [[2, 0, 3]]
    assert top_k(scores, 4)[1].tolist() == [[2, 0, 3, 1]]


def test_top_k_on_dense_float_rows_equals_a_stable_full_sort():
    scores = np.random.default_rng(5).standard_normal((8, 20_000)).astype(np.float32)
    scores[:, 100:110] = scores[:, 5:6]  # a run of exact ties somewhere in each row
    for k in (1, 1000, 19_999):
        ts, ti = top_k(scores, k)
        ref = np.argsort(-scores, axis=1, kind="stable")[:, :k]
        assert (ti == ref).all() and (ts == np.take_along_axis(scores, ref, axis=1)).all()


def test_top_k_equals_a_stable_full_sort_on_sparse_tied_rows():
    """Rows with fewer non-zero scores than k (sparse BM25) tie at the boundary; only they are redone."""
    rng = np.random.default_rng(3)
    scores = np.zeros((40, 500), dtype=np.float32)
    for r in range(40):
        cols = rng.choice(500, size=rng.integers(0, 200), replace=False)
        scores[r, cols] = rng.integers(1, 6, size=len(cols))  # many ties among the non-zeros too
    scores[::7, 3] = -np.inf
    for k in (1, 20, 100, 499):
        ts, ti = top_k(scores, k)
        ref = np.argsort(-scores, axis=1, kind="stable")[:, :k]
        assert (ti == ref).all() and (ts == np.take_along_axis(scores, ref, axis=1)).all()


@pytest.mark.parametrize("method", ["lucene", "bm25+"])
def test_bm25s_pool_scores_equal_its_scores_on_those_columns(method):
    from o1embed.tasks.retrievers.base import score_pools

    r = BM25sRetriever(method=method)
    r.fit(IDS, DOCS)
    pools = np.array([[0, 1, 4, -1], [2, 3, 4, 5], [1, -1, -1, -1]])
    pool_of = np.array([0, 0, 1, 2, 1])  # QUERIES[i] is scored over pools[pool_of[i]]
    got = score_pools(r, QUERIES, pool_of, pools)
    full = r.score(QUERIES)
    for i, p in enumerate(pool_of):
        cols = pools[p][pools[p] >= 0]
        np.testing.assert_allclose(got[i, : len(cols)], full[i, cols], rtol=1e-6, atol=1e-6)
        assert np.isneginf(got[i, len(cols) :]).all()


def zipf_corpus(n: int = 300, seed: int = 0) -> list[str]:
    rng = np.random.default_rng(seed)
    p = 1 / np.arange(1, 81)
    return [" ".join(f"w{w}" for w in rng.choice(80, rng.integers(4, 20), p=p / p.sum())) for _ in range(n)]


def test_pruned_search_with_every_posting_is_the_exact_search():
    docs = zipf_corpus()
    exact, pruned = BM25sRetriever(stopwords=None), BM25sRetriever(stopwords=None, search_postings=len(docs))
    for r in (exact, pruned):
        r.fit([f"d{i}" for i in range(len(docs))], docs)
    queries = ["w1 w7 w30", "w0 w0 w2", "w79", "zzz", docs[5]]
    (es, ec), (ps, pc) = exact.search(queries, 25), pruned.search(queries, 25)
    np.testing.assert_array_equal(ec, pc)
    np.testing.assert_allclose(es, ps, rtol=1e-6)


def test_pruned_search_reads_only_the_top_postings_of_each_term():
    docs = zipf_corpus()
    r = BM25sRetriever(stopwords=None, search_postings=10)
    r.fit([f"d{i}" for i in range(len(docs))], docs)
    r.RESCORED = 1  # no rescoring depth: exactly what the pruned index proposes
    full = r.score(["w0"])[0]  # w0 is in most documents
    _, cols = r.search(["w0"], 10)
    np.testing.assert_array_equal(cols[0], np.lexsort((np.arange(len(full)), -full))[:10])  # its 10 best postings
    _, cols = r.search(["w0 w1"], 20)
    pruned = r._pruned_index()
    proposed = set(pruned[r._vocab["w0"]].indices) | set(pruned[r._vocab["w1"]].indices)
    assert set(cols[0].tolist()) == proposed  # 10 postings per term, nothing else


def test_pruned_search_returns_exact_scores_best_first():
    docs = zipf_corpus()
    r = BM25sRetriever(stopwords=None, search_postings=10)
    r.fit([f"d{i}" for i in range(len(docs))], docs)
    queries = ["w0 w1", "w3 w0 w0 w40", "unknownword"]
    scores, cols = r.search(queries, 30)
    full = r.score(queries)
    for i in range(len(queries)):
        np.testing.assert_array_equal(scores[i], full[i, cols[i]])  # rescored: the same float32 values
        assert len(set(cols[i].tolist())) == 30
        assert np.all((np.diff(scores[i]) < 0) | ((np.diff(scores[i]) == 0) & (np.diff(cols[i]) > 0)))
    exact = set(np.lexsort((np.arange(len(docs)), -full[1]))[:30].tolist())
    assert len(exact & set(cols[1].tolist())) >= 20  # rescoring 4 x 30 proposals finds most of the exact top 30
    with pytest.raises(ConfigError, match="search_postings"):
        BM25sRetriever(search_postings=0)


def test_rescoring_reads_the_dense_rows_of_common_terms_with_the_same_values():
    docs = zipf_corpus()
    ids = [f"d{i}" for i in range(len(docs))]
    dense_rows = BM25sRetriever(stopwords=None, search_postings=10)
    postings_only = BM25sRetriever(stopwords=None, search_postings=10)
    postings_only.HOT_SHARE = 2.0  # no term is in twice the documents: every weight through a posting list
    for r in (dense_rows, postings_only):
        r.fit(ids, docs)
    assert dense_rows._vocab["w0"] in dense_rows._hot and not postings_only._hot
    queries = ["w0 w1", "w3 w0 w0 w40", "w77 w2"]
    a, b = dense_rows.search(queries, 30), postings_only.search(queries, 30)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
