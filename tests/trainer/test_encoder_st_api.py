"""O1Encoder's sentence-transformers-style calls equal its own methods."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from o1embed.trainer.encoder import EncoderConfig, O1Encoder

QUERIES = ["what is a cell", "rain water storm"]


@pytest.fixture
def enc(tiny_model_dir, tmp_path):
    return O1Encoder(tiny_model_dir, EncoderConfig(use_cache=False, max_new_tokens=6, query_batch_size=1))


def test_encode_query_equals_encode_queries(enc):
    ref = enc.encode_queries(QUERIES)
    got = enc.encode_query(QUERIES, batch_size=2)
    assert isinstance(got, np.ndarray) and got.shape == ref.shape
    assert (got * ref).sum(1).min() >= 0.999
    assert enc.config.query_batch_size == 1  # the override lasted one call
    bare = enc.encode_query(QUERIES, think=False)
    assert np.allclose(bare, enc.encode_queries(QUERIES, think=False), atol=1e-6)
    one = enc.encode_query(QUERIES[0], convert_to_tensor=True)
    assert isinstance(one, torch.Tensor) and one.shape == (32,)


def test_encode_document_takes_strings_and_dicts(enc):
    ref = enc.encode_documents(["cell", ""], ["cells divide", "rain clouds"])
    got = enc.encode_document([{"title": "cell", "text": "cells divide"}, "rain clouds"], batch_size=1)
    assert np.allclose(got, ref, atol=1e-5)
    assert enc.encode_document("rain clouds").shape == (32,)
    with pytest.raises(ValueError, match="document 1"):
        enc.encode_document(["ok", {"title": "no text"}])


def test_similarity_is_cosine(enc):
    q = enc.encode_query(QUERIES, think=False)
    d = enc.encode_document(["cells divide", "rain clouds", "stars"], convert_to_tensor=True)
    sim = enc.similarity(q, d)
    assert sim.shape == (2, 3)
    assert torch.allclose(sim, torch.from_numpy(q) @ d.T, atol=1e-5)
    assert torch.allclose(enc.similarity(q[0] * 3, q[0]), torch.ones(1, 1), atol=1e-5)
