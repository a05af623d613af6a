"""Dense retriever: cosine scores, the corpus-embedding cache keyed by model and corpus, local folders only."""

from __future__ import annotations

import numpy as np
import pytest

from o1embed.tasks.errors import ConfigError
from o1embed.tasks.retrievers import RetrieverSpec
from o1embed.tasks.retrievers.dense import DenseRetriever

DOCS = ["cats purr softly", "dogs bark loudly", "the stock market fell", "proteins fold"]
IDS = ["a", "b", "c", "d"]


def test_scores_are_cosine_and_search_is_sorted(tiny_dense_model, tmp_path):
    r = DenseRetriever(tiny_dense_model, name="tiny", cache_dir=tmp_path)
    r.fit(IDS, DOCS)
    q = ["a barking dog", "finance"]
    s = r.score(q)
    want = r.encode(q) @ r.encode(DOCS).T
    np.testing.assert_allclose(s, want, atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(r.doc_emb, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(r.score(q, doc_index=np.array([3, 1])), s[:, [3, 1]], atol=1e-6)
    vals, idx = r.search(q, 2)
    assert idx.shape == (2, 2) and (vals[:, 0] >= vals[:, 1]).all()


def test_cache_is_keyed_by_model_and_corpus(tiny_dense_model, tmp_path):
    r = DenseRetriever(tiny_dense_model, name="tiny", cache_dir=tmp_path)
    r.fit(IDS, DOCS)
    assert r.cache_hit is False
    path = r.cache_path(IDS, DOCS)
    assert path.exists() and path.parent.name == r.model_sha[:24]
    r2 = DenseRetriever(tiny_dense_model, name="tiny", cache_dir=tmp_path)
    r2.fit(IDS, DOCS)
    assert r2.cache_hit is True
    np.testing.assert_array_equal(r.doc_emb, r2.doc_emb)
    # another corpus (one text changed) or another truncation length: another cache file
    assert r2.cache_path(IDS, [*DOCS[:3], "proteins unfold"]) != path
    r3 = DenseRetriever(tiny_dense_model, name="tiny", cache_dir=tmp_path, max_seq_length=16)
    assert r3.cache_path(IDS, DOCS) != path


def test_model_checksum_covers_the_files_even_under_a_hidden_folder(tiny_dense_model, tmp_path):
    import shutil

    from o1embed.tasks.hashing import model_folder_hash as model_checksum

    hidden = tmp_path / ".venv" / "model"
    shutil.copytree(tiny_dense_model, hidden)
    assert model_checksum(hidden) == model_checksum(tiny_dense_model)
    (hidden / "config.json").write_text((hidden / "config.json").read_text() + " ")
    assert model_checksum(hidden) != model_checksum(tiny_dense_model)
    (tmp_path / "nothing").mkdir()
    with pytest.raises(ConfigError, match="no files"):
        model_checksum(tmp_path / "nothing")


def test_only_local_folders(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        DenseRetriever(tmp_path / "sentence-transformers/all-MiniLM-L6-v2")


def test_spec_builds_a_dense_member(tiny_dense_model):
    spec = RetrieverSpec(kind="dense", model_path=tiny_dense_model, name="tiny", cache=False)
    r = spec.build()
    r.fit(IDS, DOCS)
    assert r.score(["dogs"]).shape == (1, 4) and spec.effective_soft_scale == 100.0


@pytest.mark.slow
@pytest.mark.real
def test_minilm_ranks_the_obvious_document_first(tmp_path):
    r = RetrieverSpec(kind="dense").build()
    assert r.name == "minilm" and r.max_seq_length == 256
    r.cache_dir = tmp_path
    r.fit(IDS, DOCS)
    _, idx = r.search(["a barking dog", "shares dropped on wall street", "protein folding"], 1)
    assert idx[:, 0].tolist() == [1, 2, 3]


def test_pool_scores_equal_the_scores_on_those_columns(tiny_dense_model, tmp_path):
    from o1embed.tasks.retrievers.base import score_pools

    r = DenseRetriever(tiny_dense_model, cache=False)
    docs = [f"document {i} about topic {i % 3}" for i in range(7)]
    r.fit([f"d{i}" for i in range(7)], docs)
    queries = ["topic 1", "document 5", "nothing"]
    pools = np.array([[0, 3, 6], [1, 5, -1]])
    got = score_pools(r, queries, np.array([1, 0, 1]), pools)
    full = r.score(queries)
    np.testing.assert_allclose(got[0, :2], full[0, [1, 5]], atol=1e-6)
    np.testing.assert_allclose(got[1], full[1, [0, 3, 6]], atol=1e-6)
    assert np.isneginf(got[0, 2]) and np.isneginf(got[2, 2])


def test_search_through_a_faiss_index(tiny_dense_model):
    docs = [f"document {i} about topic {i % 5} and item {i % 7}" for i in range(60)]
    ids = [f"d{i}" for i in range(60)]
    queries = ["topic 1", "item 3", "document 42"]
    exact = DenseRetriever(tiny_dense_model, cache=False)
    exact.fit(ids, docs)
    every_list = RetrieverSpec(
        kind="dense", model_path=tiny_dense_model, cache=False, search_index="IVF4,Flat", search_index_params="nprobe=4"
    ).build()
    every_list.fit(ids, docs)
    (es, ec), (fs, fc) = exact.search(queries, 10), every_list.search(queries, 10)
    np.testing.assert_allclose(fs, es, atol=1e-5)  # reading every list is exact
    assert (fc == ec).mean() > 0.9  # (near-ties may swap)
    one_list = DenseRetriever(tiny_dense_model, cache=False, search_index="IVF4,Flat", search_index_params="nprobe=1")
    one_list.fit(ids, docs)
    s, c = one_list.search(queries, 50)
    assert ((c >= 0) | np.isneginf(s)).all() and (c < 60).all()  # fewer found than asked: -1 pads at -inf
    np.testing.assert_allclose(
        one_list.score_pools(queries, np.array([0, 0, 0]), c[:1].clip(0))[0],
        exact.score(queries)[0, c[0].clip(0)],
        atol=1e-5,
    )


def test_a_pool_scoring_reuses_the_search_vectors_of_the_same_strings(tiny_dense_model, monkeypatch):
    r = DenseRetriever(tiny_dense_model, cache=False)
    docs = [f"document {i} about topic {i % 3}" for i in range(7)]
    r.fit([f"d{i}" for i in range(7)], docs)
    encoded: list[list[str]] = []
    encode = r.encode
    monkeypatch.setattr(r, "encode", lambda texts: encoded.append(list(texts)) or encode(texts))
    _, top = r.search(["topic 1", "document 5"], 3)
    strings = ["topic 1", "topic 1 and a thought", "document 5", "document 5 and a thought", "topic 1"]
    got = r.score_pools(strings, np.array([0, 0, 1, 1, 0]), np.sort(top, axis=1))
    assert encoded == [["topic 1", "document 5"], ["topic 1 and a thought", "document 5 and a thought"]]
    fresh = DenseRetriever(tiny_dense_model, cache=False)
    fresh.fit([f"d{i}" for i in range(7)], docs)
    want = fresh.score(strings)
    np.testing.assert_allclose(got, np.take_along_axis(want, np.sort(top, axis=1)[[0, 0, 1, 1, 0]], axis=1), atol=1e-6)
