"""Sequence layout: labels cover exactly the thought tokens and eos; <emb> positions; per-part truncation."""

from __future__ import annotations

import pytest
import torch

from o1embed.trainer.collator import collate_queries, pad_sequences
from o1embed.trainer.config import O1ModelConfig
from o1embed.trainer.model import O1Model
from o1embed.trainer.sequences import IGNORE


@pytest.fixture(scope="module")
def model(tiny_model_dir) -> O1Model:
    return O1Model.load(tiny_model_dir)


def test_labels_mask_exactly_the_thought_tokens_and_eos(model):
    b = model.builder
    thought_ids = b.text_ids("cells divide membrane", 100)
    enc = b.query_example("what is a cell", "cells divide membrane")
    ids = model.ids
    t_start = enc.input_ids.index(ids.thought) + 1
    labelled = [i for i, lab in enumerate(enc.labels) if lab != IGNORE]
    assert labelled == list(range(t_start, t_start + len(thought_ids) + 1))
    assert [enc.labels[i] for i in labelled] == [*thought_ids, ids.eos]
    assert enc.input_ids[labelled[-1]] == ids.eos
    assert enc.n_label_tokens == len(thought_ids) + 1


def test_layout_and_pooled_position_is_emb(model):
    b, ids = model.builder, model.ids
    enc = b.query_example("what is a cell", "cells divide")
    assert enc.input_ids[0] == ids.query_start
    assert enc.input_ids[enc.emb_index] == ids.emb and enc.emb_index == len(enc.input_ids) - 1
    assert enc.input_ids[enc.emb_index - 1] == ids.eos
    assert enc.first_emb_index == -1
    batch = collate_queries([enc, b.query_example("rain", "")], ids.pad)
    rows = torch.arange(2)
    assert (batch["input_ids"][rows, batch["emb_index"]] == ids.emb).all()
    assert (batch["labels"][1] == IGNORE).all()  # query-only example: no LM target


def test_first_emb_layout(tiny_model_dir):
    m = O1Model.load(tiny_model_dir, config=O1ModelConfig(first_emb=True))
    enc = m.builder.query_example("what is a cell", "cells divide")
    bare = m.builder.bare_query("what is a cell")
    assert enc.input_ids[enc.first_emb_index] == m.ids.emb
    assert enc.input_ids[: enc.first_emb_index + 1] == bare  # the prefix is exactly the bare query


def test_per_part_truncation_keeps_markers(tiny_model_dir):
    cfg = O1ModelConfig(max_query_tokens=2, max_thought_tokens=3, max_passage_tokens=4)
    m = O1Model.load(tiny_model_dir, config=cfg)
    ids = m.ids
    long = "cells divide membrane nucleus protein mitosis stars fusion"
    enc = m.builder.query_example(long, long)
    q = enc.input_ids[enc.input_ids.index(ids.query_start) + 1 : enc.input_ids.index(ids.query_end)]
    t = enc.input_ids[enc.input_ids.index(ids.thought) + 1 : enc.input_ids.index(ids.eos)]
    assert len(q) == 2 and len(t) == 3
    doc = m.builder.document("cell", long)
    assert len(doc) == 4 + 1 and doc[-1] == ids.emb


def test_marker_text_in_a_query_is_not_a_marker(model):
    enc = model.builder.bare_query("what <emb> is")
    assert enc.count(model.ids.emb) == 1


def test_pad_sequences_right_pads():
    batch = pad_sequences([[5, 6, 9], [5, 9]], pad_id=0)
    assert batch["input_ids"].tolist() == [[5, 6, 9], [5, 9, 0]]
    assert batch["last_index"].tolist() == [2, 1]
