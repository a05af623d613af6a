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
