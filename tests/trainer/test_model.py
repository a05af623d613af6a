"""The model wrapper: special tokens, first-<emb> equivalence, trainable token rows under LoRA, saved folder."""

from __future__ import annotations

import torch

from o1embed.trainer.collator import collate_queries
from o1embed.trainer.config import SPECIAL_TOKENS, O1ModelConfig
from o1embed.trainer.losses import lm_loss_sum
from o1embed.trainer.model import O1Model, apply_lora, pool_at


def test_first_emb_vector_equals_a_separate_bare_query_pass(tiny_model_dir):
    m = O1Model.load(tiny_model_dir, config=O1ModelConfig(first_emb=True))
    queries = ["what is a cell", "why rain clouds water"]
    encs = [m.builder.query_example(q, "thought about cells and water because storm") for q in queries]
    batch = collate_queries(encs, m.ids.pad)
    with torch.no_grad():
        hidden = m.hidden_states(batch["input_ids"], batch["attention_mask"])
    first = pool_at(hidden, batch["first_emb_index"])
    separate = m.embed_sequences([m.builder.bare_query(q) for q in queries])
    torch.testing.assert_close(first, separate, atol=1e-5, rtol=1e-5)
    full = pool_at(hidden, batch["emb_index"])
    assert not torch.allclose(full, first)  # the thought changes the final vector
    assert torch.allclose(full.norm(dim=-1), torch.ones(2))


def test_vectors_do_not_depend_on_padding(tiny_model_dir):
    m = O1Model.load(tiny_model_dir)
    short, long = (
        m.builder.bare_query("rain"),
        m.builder.bare_query("what is a cell nucleus membrane protein"),
    )
    together = m.embed_sequences([short, long])
    alone = m.embed_sequences([short])
    torch.testing.assert_close(together[0], alone[0], atol=1e-5, rtol=1e-5)


def test_special_token_rows_train_under_lora(tiny_model_dir, tiny_tied_model_dir):
    for folder in (tiny_model_dir, tiny_tied_model_dir):
        m = O1Model.load(folder)
        special = m.tokenizer.convert_tokens_to_ids(SPECIAL_TOKENS)
        emb_before = m.lm.get_input_embeddings().weight.detach().clone()
        head_before = m.lm.get_output_embeddings().weight.detach().clone()
        apply_lora(m, r=4, alpha=8, dropout=0.0, target_modules="all-linear")
        trainable = [p for p in m.lm.parameters() if p.requires_grad]
        opt = torch.optim.SGD(trainable, lr=1.0)
        enc = m.builder.query_example("what is a cell", "cells divide")
        batch = collate_queries([enc], m.ids.pad)
        hidden = m.hidden_states(batch["input_ids"], batch["attention_mask"])
        loss = lm_loss_sum(hidden, batch["labels"], m.lm_head)[0] + pool_at(hidden, batch["emb_index"]).sum()
        loss.backward()
        opt.step()
        merged = m.lm.merge_and_unload()
        emb_after = merged.get_input_embeddings().weight.detach()
        head_after = merged.get_output_embeddings().weight.detach()
        changed = (emb_after != emb_before).any(1).nonzero().flatten().tolist()
        assert set(changed) <= set(special) and changed, folder  # only special rows move, and some do
        head_changed = (head_after != head_before).any(1).nonzero().flatten().tolist()
        assert set(head_changed) <= set(special), folder


def test_saved_folder_loads_with_plain_transformers(tiny_model_dir, tmp_path):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    m = O1Model.load(tiny_model_dir, config=O1ModelConfig(max_passage_tokens=77, first_emb=True))
    apply_lora(m, r=4, alpha=8, dropout=0.0, target_modules="all-linear")
    out = m.save(tmp_path / "model", dtype="float32")
    lm = AutoModelForCausalLM.from_pretrained(out)
    tok = AutoTokenizer.from_pretrained(out)
    assert all(t in tok.get_vocab() for t in SPECIAL_TOKENS)
    assert lm.get_input_embeddings().weight.shape[0] == len(tok)
    cfg = O1ModelConfig.load(out)
    assert cfg.max_passage_tokens == 77 and cfg.first_emb and cfg.dtype == "float32"
    again = O1Model.load(out)
    assert again.config.max_passage_tokens == 77
    seq = [again.builder.bare_query("rain")]
    torch.testing.assert_close(again.embed_sequences(seq), m.embed_sequences(seq), atol=1e-5, rtol=1e-5)
