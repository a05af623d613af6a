"""Learning when to think: skip examples, the margin, the query-vector term, the decision loss, the hold-out, and
what a trained model learns."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import torch

from o1embed.tasks.errors import ConfigError
from o1embed.trainer.collator import collate_queries
from o1embed.trainer.config import TrainConfig
from o1embed.trainer.data import TrainingSet, held_out
from o1embed.trainer.encoder import EncoderConfig, O1Encoder
from o1embed.trainer.launcher import launch_training, planned_steps
from o1embed.trainer.losses import decision_loss_sum, joint_loss
from o1embed.trainer.model import O1Model
from o1embed.trainer.run_files import RunFiles
from o1embed.trainer.sequences import IGNORE
from tests.trainer.run_config import tiny_config
from tests.trainer.tiny import TOPICS, toy_tables

SKIP_MARK = "why"  # toy rule: a query with this word gets no thought (the committee found none that helps)


def when_to_think_tables(variants: range) -> tuple[pa.Table, pa.Table]:
    """Per topic and word variant, one query that thinks ("what is a ...") and one that does not ("why ...").

    Thinking examples carry a winning thought (policy kept, gain > 0); the others the committee's no-gain decision
    (policy query_only, thought ""), exactly as tasks.committee.examples writes them.
    """
    docs, rows = [], []
    keys = sorted(TOPICS)
    for key in keys:
        words = TOPICS[key].split()
        docs.append({"doc_id": f"{key}-0", "title": key, "text": TOPICS[key]})
        for v in variants:
            negs = [f"{k}-0" for k in keys if k != key][:3]
            base = {"positive_ids": [f"{key}-0"], "negative_ids": negs}
            rows.append(
                {
                    **base,
                    "query_id": f"t-{key}-{v}",
                    "query": f"what is a {key} {words[v]}",
                    "thought": f"{key} {' '.join(words[:3])} because {words[-1]}",
                    "policy": "kept",
                    "gain": 0.5,
                }
            )
            rows.append(
                {
                    **base,
                    "query_id": f"s-{key}-{v}",
                    "query": f"{SKIP_MARK} {key} {words[v]}",
                    "thought": "",
                    "policy": "query_only",
                    "gain": 0.0,
                }
            )
    return pa.Table.from_pylist(rows), pa.Table.from_pylist(docs)


def write_toy_set(tmp_path: Path) -> tuple[Path, Path]:
    """The toy training set (topics 0-2) as examples.parquet and corpus.parquet under ``tmp_path/data``."""
    train, corpus = when_to_think_tables(range(3))
    folder = tmp_path / "data"
    folder.mkdir()
    pq.write_table(train, folder / "examples.parquet")
    pq.write_table(corpus, folder / "corpus.parquet")
    return folder / "examples.parquet", folder / "corpus.parquet"


def toy_config(model_dir: Path, files: tuple[Path, Path], run: Path, steps: int, **overrides):
    """The toy runs' settings: a high learning rate, no dropout, a light InfoNCE, fp32, 8-token thoughts."""
    return tiny_config(
        model_dir,
        files,
        run,
        queries_per_step=8,
        max_steps=steps,
        checkpoint_every=steps,
        learning_rate=1e-2,
        warmup_ratio=0.0,
        contrastive_weight=0.2,
        thought_dropout=0.0,
        model={"dtype": "float32", "first_emb": True, "max_thought_tokens": 8},
        **overrides,
    )


def test_skip_example_labels_only_the_immediate_close(tiny_model_dir):
    m = O1Model.load(tiny_model_dir)
    enc = m.builder.skip_example("what is a cell")
    assert enc.input_ids[-3:] == [m.ids.thought, m.ids.eos, m.ids.emb] and enc.emb_index == len(enc.input_ids) - 1
    assert [x for x in enc.labels if x != IGNORE] == [m.ids.eos] and enc.labels[-2] == m.ids.eos


def test_no_gain_decisions_become_skip_items_and_the_margin_demotes_weak_thoughts():
    examples, corpus = when_to_think_tables(range(1))
    ts = TrainingSet(examples, corpus, 2, 0, 0.0)
    items = [ts.item(i, 0) for i in range(len(ts))]
    assert all(it.skip == it.query_id.startswith("s-") for it in items)
    assert all(bool(it.thought) == it.query_id.startswith("t-") for it in items)
    off = TrainingSet(examples, corpus, 2, 0, 0.0, learn_when_to_think=False)
    assert not any(off.item(i, 0).skip for i in range(len(off)))  # the bare query, as before
    strict = TrainingSet(examples, corpus, 2, 0, 0.0, min_thought_gain=0.6)  # every thought gains only 0.5
    assert all(strict.item(i, 0).skip and not strict.item(i, 0).thought for i in range(len(strict)))
    dropped = TrainingSet(examples, corpus, 2, 0, 1.0)  # thought dropout still gives bare queries
    assert not any(dropped.item(i, 0).skip or dropped.item(i, 0).thought for i in range(len(dropped)))
    with pytest.raises(ConfigError, match="gain column"):
        TrainingSet(*toy_tables(), 2, 0, 0.0, min_thought_gain=0.1)
    plain = TrainingSet(*toy_tables(thoughts=False), 2, 0, 0.0)  # no committee decision: bare queries
    assert not any(plain.item(i, 0).skip for i in range(len(plain)))


def test_query_vector_weight_mixes_two_infonce_terms():
    torch.manual_seed(0)
    q, qq = (torch.nn.functional.normalize(torch.randn(2, 8), dim=-1) for _ in range(2))
    p = torch.nn.functional.normalize(torch.randn(6, 8), dim=-1)
    t = torch.tensor([0, 3])
    zero = torch.zeros((), requires_grad=True)
    _, only_t = joint_loss(q, p, t, zero, 0, 1.0, 0.05, q_query_local=qq, query_weight=0.0)
    _, only_q = joint_loss(q, p, t, zero, 0, 1.0, 0.05, q_query_local=qq, query_weight=1.0)
    _, half = joint_loss(q, p, t, zero, 0, 1.0, 0.05, q_query_local=qq, query_weight=0.5)
    assert only_t["contrastive"] == pytest.approx(only_t["contrastive_thought"])
    assert only_q["contrastive"] == pytest.approx(only_q["contrastive_query"])
    assert half["contrastive"] == pytest.approx((only_t["contrastive"] + only_q["contrastive"]) / 2)
    # the old layout (both vectors stacked into one InfoNCE) is the 0.5 case
    _, stacked = joint_loss(torch.cat([q, qq]), p, torch.cat([t, t]), zero, 0, 1.0, 0.05)
    assert half["contrastive"] == pytest.approx(stacked["contrastive"], rel=1e-5)


def test_a_tiny_model_learns_when_to_think(tiny_model_dir, tmp_path):
    """Half the training queries carry the committee's 'no thought' decision; held-out queries follow the rule."""
    torch.manual_seed(0)
    files = write_toy_set(tmp_path)
    held_out, _ = when_to_think_tables(range(3, 6))  # other topic words: queries never seen in training
    cfg = toy_config(tiny_model_dir, files, tmp_path / "run", 80)
    assert cfg.learn_when_to_think  # the default
    launch_training(cfg)
    log = RunFiles(tmp_path / "run").read_log()
    assert all(r["skip_examples"] > 0 for r in log) and "contrastive_query" in log[0]

    enc = O1Encoder(tmp_path / "run" / "model", EncoderConfig(use_cache=False, max_new_tokens=8))
    queries = held_out["query"].to_pylist()
    should_skip = [q.startswith(SKIP_MARK) for q in queries]
    enc.encode_queries(queries, think="auto")
    decided = [not r.thought for r in enc.records]
    p_close = [r.p_close for r in enc.records]
    correct = sum(d == s for d, s in zip(decided, should_skip, strict=True))
    assert correct == len(queries), list(zip(queries, p_close, strict=True))
    assert all(r.thought_tokens >= 1 for r, s in zip(enc.records, should_skip, strict=True) if not s)
    # the thinking queries write the taught thought's first word: the topic
    assert all(
        ts[0].split()[0] == q.split()[3] for q, ts, s in zip(queries, enc.thoughts, should_skip, strict=True) if not s
    )


def test_cpu_small_long_query_preset_keeps_long_queries():
    data = {"examples_path": "e.parquet", "corpus_path": "c.parquet"}
    long = TrainConfig.from_preset("cpu-small-long-query", output_dir="/tmp/x", data=data)
    short = TrainConfig.from_preset("cpu-small", output_dir="/tmp/x", data=data)
    assert long.model.max_query_tokens == 256 and short.model.max_query_tokens == 32
    assert long.model.max_passage_tokens == short.model.max_passage_tokens and long.max_steps == short.max_steps


def test_collated_skip_examples_put_the_label_before_emb(tiny_model_dir):
    m = O1Model.load(tiny_model_dir)
    batch = collate_queries([m.builder.skip_example("rain"), m.builder.query_example("cell", "cells")], m.ids.pad)
    row = batch["labels"][0]
    assert int((row != IGNORE).sum()) == 1 and int(row[batch["emb_index"][0] - 1]) == m.ids.eos


def test_decision_index_points_at_the_thought_whose_next_label_decides(tiny_model_dir):
    m = O1Model.load(tiny_model_dir)
    encs = [m.builder.skip_example("rain"), m.builder.query_example("cell", "cells divide")]
    batch = collate_queries([*encs, m.builder.query_example("x", None)], m.ids.pad)  # the last: a bare query
    d = batch["decision_index"]
    assert int(d[2]) == -1  # a bare query decides nothing
    for row in (0, 1):
        assert int(batch["input_ids"][row, d[row]]) == m.ids.thought
    assert int(batch["labels"][0, d[0] + 1]) == m.ids.eos and int(batch["labels"][1, d[1] + 1]) != m.ids.eos


def test_decision_loss_is_the_binary_cross_entropy_of_p_close():
    torch.manual_seed(0)
    head = torch.nn.Linear(6, 5, bias=False)
    eos = 4
    hidden = torch.randn(3, 4, 6, requires_grad=True)
    index = torch.tensor([1, 2, -1])  # row 0 closes, row 1 thinks, row 2 is a bare query
    labels = torch.full((3, 4), -100)
    labels[0, 2], labels[1, 3] = eos, 1
    total, count = decision_loss_sum(hidden, index, labels, head, eos)
    p0 = torch.softmax(head(hidden[0, 1]), -1)[eos]
    p1 = torch.softmax(head(hidden[1, 2]), -1)[eos]
    assert count == 2
    torch.testing.assert_close(total, -(torch.log(p0) + torch.log(1 - p1)))
    total.backward()
    assert hidden.grad[2].abs().sum() == 0 and hidden.grad[0, 1].abs().sum() > 0
    none, zero = decision_loss_sum(hidden, torch.tensor([-1, -1, -1]), labels, head, eos)
    assert zero == 0 and float(none.detach()) == 0.0 and none.requires_grad
    # joint_loss adds the weighted global mean and logs it
    q = torch.nn.functional.normalize(torch.randn(2, 8), dim=-1)
    p = torch.nn.functional.normalize(torch.randn(4, 8), dim=-1)
    lm = torch.zeros((), requires_grad=True)
    t = torch.tensor([0, 2])
    plain, _ = joint_loss(q, p, t, lm, 0, 1.0, 0.05)
    total = total.detach()
    loss, stats = joint_loss(q, p, t, lm, 0, 1.0, 0.05, decision_sum=total, decision_count=2, decision_weight=0.5)
    assert stats["decisions"] == 2 and stats["decision"] == pytest.approx(float(total) / 2)
    assert float(loss.detach()) == pytest.approx(float(plain.detach()) + 0.5 * float(total) / 2)
    assert stats["loss"] == pytest.approx(float(loss.detach()))


def test_the_hold_out_is_a_stable_share_of_query_ids_and_is_kept_out_of_training():
    examples, corpus = when_to_think_tables(range(3))
    full = TrainingSet(examples, corpus, 2, 0, 0.0)
    part = TrainingSet(examples, corpus, 2, 1, 0.0, holdout_share=0.3)
    trained = {r["query_id"] for r in part.rows}
    held = part.holdout_table()
    assert held.num_rows == len(part.holdout_rows) > 0 and trained.isdisjoint(held["query_id"].to_pylist())
    assert trained | set(held["query_id"].to_pylist()) == {r["query_id"] for r in full.rows}
    assert all(held_out(q, 0.3) for q in held["query_id"].to_pylist())  # the same ids whatever the seed
    assert set(held.column_names) == {"query_id", "query", "thought", "skip", "positive_ids"}
    assert held["skip"].to_pylist() == [q.startswith("s-") for q in held["query_id"].to_pylist()]
    assert full.holdout_table().num_rows == 0


def test_planned_steps_count_only_the_queries_that_train(tiny_model_dir, tmp_path):
    """An epoch-based run with a hold-out plans (and shows progress for) the steps its loop will take."""
    files = write_toy_set(tmp_path)
    cfg = toy_config(tiny_model_dir, files, tmp_path / "run", 1, holdout_share=0.3)
    cfg = cfg.model_copy(update={"max_steps": None, "epochs": 2, "queries_per_step": 2})
    examples, corpus = when_to_think_tables(range(3))
    trained = TrainingSet(examples, corpus, 2, 0, 0.0, holdout_share=0.3)
    everything = TrainingSet(examples, corpus, 2, 0, 0.0)
    assert planned_steps(cfg) == 2 * (len(trained.rows) // 2) < 2 * (len(everything.rows) // 2)


def test_the_decision_loss_teaches_the_decision_where_the_lm_loss_alone_is_slow(tiny_model_dir, tmp_path):
    """Same tiny run, same steps: with the decision loss, held-out p_close separates skip from think further."""
    files = write_toy_set(tmp_path)
    held, _ = when_to_think_tables(range(3, 6))
    queries = held["query"].to_pylist()
    skip = torch.tensor([q.startswith(SKIP_MARK) for q in queries])
    gaps = {}
    for weight in (0.0, 1.0):
        torch.manual_seed(0)
        run = tmp_path / f"run-{weight}"
        cfg = toy_config(tiny_model_dir, files, run, 30, decision_weight=weight, holdout_share=0.2)
        launch_training(cfg)
        log = RunFiles(run).read_log()
        assert all(r["decisions"] == 8 and r["decision"] >= 0 for r in log)  # logged at any weight
        assert pq.read_table(RunFiles(run).holdout).num_rows > 0
        enc = O1Encoder(run / "model", EncoderConfig(use_cache=False))
        p_close = enc.first_step(queries, skip=False, query=False).p_close
        gaps[weight] = float(p_close[skip].mean() - p_close[~skip].mean())
    assert gaps[1.0] > 0.5 and gaps[1.0] > gaps[0.0], gaps
