"""O1Encoder: KV-cache reuse equals re-encoding (tiny model and SmolLM2), think=False, thought cache, documents."""

from __future__ import annotations

import numpy as np
import pytest

from o1embed.trainer.config import O1ModelConfig
from o1embed.trainer.encoder import EncoderConfig, O1Encoder
from o1embed.trainer.model import O1Model

QUERIES = ["what is a cell", "rain water storm", "why stars", "bank money loan", "birds"]
DOCS = [
    ("cell", "cells divide membrane"),
    ("rain", "rain clouds water"),
    ("star", "stars fusion light"),
    ("bank", "bank money loan"),
    ("bird", "birds wings feathers"),
]


def encoders(path, tmp_path, **kw):
    common = {"cache_dir": str(tmp_path / "cache"), "use_cache": False} | kw
    return (
        O1Encoder(path, EncoderConfig(kv_reuse=True, **common)),
        O1Encoder(path, EncoderConfig(kv_reuse=False, **common)),
    )


def assert_same_vectors_and_ranking(kv, re, docs):
    cos = (kv * re).sum(1)
    assert cos.min() >= 0.999, cos
    assert (np.argsort(-(kv @ docs.T), axis=1) == np.argsort(-(re @ docs.T), axis=1)).all()


@pytest.mark.parametrize(
    "kw",
    [
        {"thoughts": 1, "max_new_tokens": 12},  # greedy: every row runs to the token budget (no eos)
        {
            "thoughts": 3,
            "max_new_tokens": 10,
            "temperature": 1.0,
            "top_p": 1.0,
        },  # sampled: some rows stop early
    ],
)
def test_kv_reuse_equals_reencoding_tiny(tiny_model_dir, tmp_path, kw):
    kv_enc, re_enc = encoders(tiny_model_dir, tmp_path, query_batch_size=3, **kw)
    kv, re = kv_enc.encode_queries(QUERIES), re_enc.encode_queries(QUERIES)
    assert kv_enc.thoughts == re_enc.thoughts  # same thoughts (same seed), only the read-out differs
    if kw["thoughts"] > 1:  # the early-stop path (eos before the budget, padding after it) is exercised
        assert min(len(t.split()) for ts in kv_enc.thoughts for t in ts) < kw["max_new_tokens"]
    docs = kv_enc.encode_documents([t for t, _ in DOCS], [x for _, x in DOCS])
    assert_same_vectors_and_ranking(kv, re, docs)
    assert np.allclose(np.linalg.norm(kv, axis=1), 1.0, atol=1e-5)


def test_kv_reuse_with_first_emb_model(tiny_model_dir, tmp_path):
    m = O1Model.load(tiny_model_dir, config=O1ModelConfig(first_emb=True, max_thought_tokens=6))
    folder = m.save(tmp_path / "first-emb")
    kv_enc, re_enc = encoders(folder, tmp_path, max_new_tokens=128)
    assert kv_enc.max_new_tokens == 6  # capped by the model's thought length
    kv, re = kv_enc.encode_queries(QUERIES), re_enc.encode_queries(QUERIES)
    assert (kv * re).sum(1).min() >= 0.999


def test_think_false_embeds_the_bare_query(tiny_model_dir, tmp_path):
    enc, _ = encoders(tiny_model_dir, tmp_path)
    vecs = enc.encode_queries(QUERIES[:2], think=False)
    ref = enc.model.embed_sequences([enc.model.builder.bare_query(q) for q in QUERIES[:2]]).numpy()
    assert np.allclose(vecs, ref, atol=1e-6) and enc.thoughts == [[], []]


def test_thought_cache_reuses_thoughts_without_generating(tiny_model_dir, tmp_path, monkeypatch):
    cfg = EncoderConfig(cache_dir=str(tmp_path / "cache"), thoughts=2, max_new_tokens=8)
    first = O1Encoder(tiny_model_dir, cfg)
    v1 = first.encode_queries(QUERIES[:3])
    t1 = first.thoughts
    again = O1Encoder(tiny_model_dir, cfg)
    monkeypatch.setattr(again, "generate", lambda *a, **k: pytest.fail("generated despite the cache"))
    v2 = again.encode_queries(QUERIES[:3])
    assert again.thoughts == t1
    assert np.allclose(v1, v2, atol=1e-5)
    other = O1Encoder(tiny_model_dir, cfg.model_copy(update={"seed": 1}))  # other sampling: other key
    assert other.sampling != again.sampling


def test_encode_documents_keeps_order_and_is_normalised(tiny_model_dir, tmp_path):
    enc, _ = encoders(tiny_model_dir, tmp_path, doc_batch_size=2)
    titles, texts = ["a", "", "cell"], ["rain clouds water storm weather humidity", "fish", "cells"]
    vecs = enc.encode_documents(titles, texts)
    one = enc.encode_documents(titles[1:2], texts[1:2])
    assert vecs.shape == (3, 32) and np.allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-5)
    assert np.allclose(vecs[1], one[0], atol=1e-5)
    assert enc.encode_queries([]).shape == (0, 32)


def test_bfloat16_on_cpu_is_a_setting_and_changes_the_thought_cache_key(tiny_model_dir, tmp_path):
    import torch

    fp32, _ = encoders(tiny_model_dir, tmp_path)
    bf16, _ = encoders(tiny_model_dir, tmp_path, dtype="bfloat16", device="cpu")
    assert bf16.model.lm.dtype == torch.bfloat16 and fp32.model.lm.dtype == torch.float32
    assert bf16.sampling["dtype"] == "bfloat16" and fp32.sampling["dtype"] == "float32"
    titles, texts = [t for t, _ in DOCS], [x for _, x in DOCS]
    a, b = fp32.encode_documents(titles, texts), bf16.encode_documents(titles, texts)
    assert b.dtype == np.float32 and (a * b).sum(1).min() > 0.98  # bf16 rounding only


@pytest.mark.slow
@pytest.mark.real
def test_kv_reuse_equals_reencoding_smollm2(smollm2_dir, tmp_path):
    import torch

    torch.set_num_threads(2)
    queries = ["what is a cell nucleus", "rain"]
    kv_enc, re_enc = encoders(smollm2_dir, tmp_path, max_new_tokens=12, query_batch_size=2)
    kv, re = kv_enc.encode_queries(queries), re_enc.encode_queries(queries)
    assert kv_enc.thoughts == re_enc.thoughts and all(t[0] for t in kv_enc.thoughts)
    docs = kv_enc.encode_documents(["Nucleus", "Rain"], ["The nucleus holds DNA.", "Rain is water from clouds."])
    assert_same_vectors_and_ranking(kv, re, docs)
