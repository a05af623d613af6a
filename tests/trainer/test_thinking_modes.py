"""O1Encoder thinking modes: auto (skip or think), always, never, fusion, per-query records."""

from __future__ import annotations

import numpy as np
import pytest

from o1embed.trainer.config import O1ModelConfig
from o1embed.trainer.encoder import EncoderConfig, O1Encoder
from o1embed.trainer.model import O1Model
from tests.trainer.test_encoder import QUERIES


def encoder(path, tmp_path, **kw) -> O1Encoder:
    return O1Encoder(path, EncoderConfig(use_cache=False, cache_dir=str(tmp_path / "c"), max_new_tokens=6, **kw))


def fresh(enc: O1Encoder, seqs: list[list[int]]) -> np.ndarray:
    return enc.model.embed_sequences(seqs).numpy()


def cos(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)


@pytest.fixture(params=[False, True], ids=["plain", "first_emb"])
def model_dir(request, tiny_model_dir, tmp_path):
    if not request.param:
        return tiny_model_dir
    m = O1Model.load(tiny_model_dir, config=O1ModelConfig(first_emb=True))
    return m.save(tmp_path / "first-emb")


def test_auto_with_an_immediate_close_is_the_skip_sequence(model_dir, tmp_path):
    enc = encoder(model_dir, tmp_path, query_batch_size=2)
    vecs = enc.encode_queries(QUERIES, think="auto", close_threshold=0.0)  # every query closes at once
    ref = fresh(enc, [enc.model.builder.skip_example(q).input_ids for q in QUERIES])
    assert cos(vecs, ref).min() >= 0.999
    assert all(not r.thought and r.thought_tokens == 0 and 0 <= r.p_close <= 1 for r in enc.records)
    assert enc.thoughts == [[] for _ in QUERIES]


def test_auto_thinks_where_the_close_is_unlikely_and_matches_always(model_dir, tmp_path):
    enc = encoder(model_dir, tmp_path, query_batch_size=3)
    always = enc.encode_queries(QUERIES, think="always")
    assert all(r.thought and r.thought_tokens >= 1 and r.p_close is None for r in enc.records)
    assert all(t[0] for t in enc.thoughts)  # the immediate close is suppressed: never an empty thought
    enc.encode_queries(QUERIES, think="auto", close_threshold=0.0)
    probs = [r.p_close for r in enc.records]
    cut = float(np.median(probs))
    mixed = enc.encode_queries(QUERIES, think="auto", close_threshold=cut)
    skipped = [p >= cut for p in probs]
    assert 0 < sum(skipped) < len(QUERIES)
    assert [not r.thought for r in enc.records] == skipped
    skip_ref = fresh(enc, [enc.model.builder.skip_example(q).input_ids for q in QUERIES])
    for i, s in enumerate(skipped):
        ref = skip_ref[i] if s else always[i]
        assert cos(mixed[i : i + 1], ref[None]).min() >= 0.999
    enc.encode_queries(QUERIES, think="auto", close_threshold=1.0)
    assert all(r.thought for r in enc.records)  # a higher threshold: more thinking


def test_fusion_alpha_one_is_never_and_zero_is_unfused(model_dir, tmp_path):
    enc = encoder(model_dir, tmp_path, query_batch_size=2)
    never = enc.encode_queries(QUERIES, think="never")
    assert all(not r.thought for r in enc.records)
    for mode in ("always", "auto"):
        unfused = enc.encode_queries(QUERIES, think=mode, fusion_alpha=0.0)
        assert cos(enc.encode_queries(QUERIES, think=mode, fusion_alpha=1.0), never).min() >= 0.999
        assert cos(enc.encode_queries(QUERIES, think=mode, fusion_alpha=0.0), unfused).min() >= 0.999
        half = enc.encode_queries(QUERIES, think=mode, fusion_alpha=0.5)
        mix = 0.5 * never + 0.5 * unfused
        assert cos(half, mix).min() >= 0.999  # q read through the prompt's KV cache is the bare-query vector
    assert np.allclose(np.linalg.norm(half, axis=1), 1.0, atol=1e-5)
    fused_cfg = encoder(model_dir, tmp_path, fusion_alpha=1.0).encode_queries(QUERIES, think="always")
    assert cos(fused_cfg, never).min() >= 0.999  # the config setting does the same


def test_records_and_num_thoughts_per_call(tiny_model_dir, tmp_path):
    enc = encoder(tiny_model_dir, tmp_path, temperature=1.0, top_p=1.0)
    enc.encode_queries(QUERIES[:2], think="always", num_thoughts=3)
    assert [len(t) for t in enc.thoughts] == [3, 3] and enc.sampling["m"] == 3
    assert all(r.seconds > 0 and 1 <= r.thought_tokens <= 6 for r in enc.records)
    enc.encode_queries(QUERIES[:2], think=True)
    assert [len(t) for t in enc.thoughts] == [1, 1] and enc.config.thoughts == 1  # the config is untouched


def test_cached_thoughts_serve_auto_and_always(tiny_model_dir, tmp_path, monkeypatch):
    cfg = EncoderConfig(cache_dir=str(tmp_path / "cache"), max_new_tokens=6)
    first = O1Encoder(tiny_model_dir, cfg)
    v1 = first.encode_queries(QUERIES, think="auto", close_threshold=1.0)
    again = O1Encoder(tiny_model_dir, cfg)
    monkeypatch.setattr(again, "generate", lambda *a, **k: pytest.fail("generated despite the cache"))
    v2 = again.encode_queries(QUERIES, think="always")
    assert again.thoughts == first.thoughts and cos(v1, v2).min() >= 0.999


@pytest.mark.slow
@pytest.mark.real
def test_auto_mode_on_smollm2(smollm2_dir, tmp_path):
    import torch

    torch.set_num_threads(2)
    queries = ["what is a cell nucleus", "rain"]
    enc = encoder(smollm2_dir, tmp_path, query_batch_size=2)
    skip = enc.encode_queries(queries, think="auto", close_threshold=0.0)
    ref = fresh(enc, [enc.model.builder.skip_example(q).input_ids for q in queries])
    assert cos(skip, ref).min() >= 0.999 and not any(r.thought for r in enc.records)
    never = enc.encode_queries(queries, think="never")
    assert cos(enc.encode_queries(queries, think="auto", fusion_alpha=1.0), never).min() >= 0.999
    enc.encode_queries(queries, think="auto", close_threshold=1.0)
    assert all(r.thought and r.thought_tokens >= 1 for r in enc.records) and all(t[0] for t in enc.thoughts)


def test_skip_vector_query_makes_the_sweep_run_from_never_to_always(model_dir, tmp_path):
    """With skip_vector="query" a skipping query is embedded as under "never"; a thinking one as under "always"."""
    enc = encoder(model_dir, tmp_path, skip_vector="query")
    never = enc.encode_queries(QUERIES, think="never")
    assert cos(enc.encode_queries(QUERIES, think="auto", close_threshold=0.0), never).min() >= 0.999
    assert not any(r.thought for r in enc.records)
    always = enc.encode_queries(QUERIES, think="always")
    assert cos(enc.encode_queries(QUERIES, think="auto", close_threshold=1.0), always).min() >= 0.999
    assert all(r.thought for r in enc.records)
