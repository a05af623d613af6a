"""Losses: InfoNCE by hand, LM loss equals transformers' own, no NaN without thought tokens."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from o1embed.trainer.collator import collate_queries
from o1embed.trainer.collectives import all_reduce_gradients, gather_with_grad
from o1embed.trainer.losses import info_nce, joint_loss, lm_loss_sum
from o1embed.trainer.model import O1Model, pool_at


def test_info_nce_matches_the_formula():
    torch.manual_seed(0)
    q = F.normalize(torch.randn(2, 8), dim=-1)
    p = F.normalize(torch.randn(6, 8), dim=-1)
    loss = info_nce(q, p, torch.tensor([0, 3]), temperature=0.5)
    s = q @ p.T / 0.5
    expected = -(s[0, 0] - torch.logsumexp(s[0], 0) + s[1, 3] - torch.logsumexp(s[1], 0)) / 2
    torch.testing.assert_close(loss, expected)


def test_info_nce_mask_removes_false_negatives_but_not_the_target():
    q = F.normalize(torch.tensor([[1.0, 0.0]]), dim=-1)
    p = F.normalize(torch.tensor([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]]), dim=-1)
    mask = torch.tensor([[True, True, False]])  # doc 1 is another copy of a positive
    masked = info_nce(q, p, torch.tensor([0]), 1.0, mask)
    expected = -(1.0 - math.log(math.e + 1.0))
    assert abs(float(masked) - expected) < 1e-5


def test_lm_loss_equals_transformers_loss(tiny_model_dir):
    m = O1Model.load(tiny_model_dir)
    encs = [
        m.builder.query_example("what is a cell", "cells divide membrane"),
        m.builder.query_example("rain", "water"),
    ]
    batch = collate_queries(encs, m.ids.pad)
    with torch.no_grad():
        hidden = m.hidden_states(batch["input_ids"], batch["attention_mask"])
        total, count = lm_loss_sum(hidden, batch["labels"], m.lm_head)
        ref = m.lm(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"], labels=batch["labels"]).loss
    assert count == sum(e.n_label_tokens for e in encs)
    torch.testing.assert_close(total / count, ref, atol=1e-5, rtol=1e-5)


def test_no_nan_when_the_batch_has_no_thought_tokens(tiny_model_dir):
    m = O1Model.load(tiny_model_dir)
    encs = [m.builder.query_example(q, "") for q in ("what is a cell", "rain")]
    batch = collate_queries(encs, m.ids.pad)
    hidden = m.hidden_states(batch["input_ids"], batch["attention_mask"])
    lm_sum, count = lm_loss_sum(hidden, batch["labels"], m.lm_head)
    assert count == 0
    q = pool_at(hidden, batch["emb_index"])
    docs = m.embed_sequences([m.builder.document("cell", "cells divide"), m.builder.document("rain", "water")])
    loss, stats = joint_loss(q, docs, torch.tensor([0, 1]), lm_sum, count, 0.8, 0.02)
    loss.backward()
    params = [p for p in m.lm.parameters() if p.requires_grad]
    all_reduce_gradients(params)
    assert math.isfinite(float(loss.detach())) and stats["lm"] == 0.0 and stats["thought_tokens"] == 0
    assert all(torch.isfinite(p.grad).all() for p in params)


def test_gather_is_identity_on_one_worker():
    x = torch.randn(3, 4, requires_grad=True)
    assert gather_with_grad(x) is x
