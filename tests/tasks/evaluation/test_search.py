from __future__ import annotations

import numpy as np

from o1embed.tasks.evaluation import search
from o1embed.tasks.evaluation.search import dense_search, exact_search, faiss_search


def _unit(rng, n, dim):
    x = rng.standard_normal((n, dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_exact_and_faiss_give_the_same_ranking():
    rng = np.random.default_rng(0)
    docs, queries = _unit(rng, 700, 32), _unit(rng, 25, 32)
    s1, i1 = exact_search(queries, docs, k=100, batch_size=7)
    s2, i2 = faiss_search(queries, docs, k=100)
    assert i1.shape == i2.shape == (25, 100)
    np.testing.assert_array_equal(i1, i2)
    np.testing.assert_allclose(s1, s2, atol=1e-5)
    full = queries @ docs.T
    np.testing.assert_array_equal(i1[:, 0], full.argmax(axis=1))
    assert np.all(np.diff(s1, axis=1) <= 1e-7)  # best first


def test_k_larger_than_corpus_is_capped():
    rng = np.random.default_rng(1)
    docs, queries = _unit(rng, 5, 8), _unit(rng, 3, 8)
    s, i = exact_search(queries, docs, k=100)
    assert i.shape == (3, 5)
    assert sorted(i[0].tolist()) == [0, 1, 2, 3, 4]
    assert faiss_search(queries, docs, k=100)[1].shape == (3, 5)


def test_dense_search_switches_to_faiss_above_threshold(monkeypatch):
    rng = np.random.default_rng(2)
    docs, queries = _unit(rng, 50, 8), _unit(rng, 4, 8)
    used = []
    monkeypatch.setattr(search, "faiss_search", lambda *a, **k: used.append("faiss") or exact_search(a[0], a[1], a[2]))
    dense_search(queries, docs, 10, faiss_threshold=100)
    assert used == []
    dense_search(queries, docs, 10, faiss_threshold=49)
    assert used == ["faiss"]
