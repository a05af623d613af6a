"""``o1embed model fit-gate``: per-query gains from a held-out report -> hidden states -> think_gate.json."""

from __future__ import annotations

import json

import polars as pl
import pytest
from typer.testing import CliRunner

from o1embed.flows.cli.train import register
from o1embed.trainer.encoder import EncoderConfig, O1Encoder
from o1embed.trainer.think_gate import THINK_GATE_FILE, ThinkGate
from tests.trainer.tiny import TOPICS, build_tiny_model
from tests.typer_app import app_with


def _held_out(tmp_path, auto_thought: bool = False):
    """A BEIR folder of 16 queries in the tiny vocabulary and a report on it: thinking helps on every other query."""
    folder = tmp_path / "tiny"
    (folder / "qrels").mkdir(parents=True)
    texts = [f"what is a {key} {text.split()[j]}" for key, text in sorted(TOPICS.items()) for j in range(2)]
    queries = [(f"q{i:02d}", t) for i, t in enumerate(texts)]
    (folder / "queries.jsonl").write_text("".join(json.dumps({"_id": q, "text": t}) + "\n" for q, t in queries))
    (folder / "corpus.jsonl").write_text(json.dumps({"_id": "d", "title": "", "text": "cells"}) + "\n")
    (folder / "qrels" / "train.tsv").write_text(
        "query-id\tcorpus-id\tscore\n" + "".join(f"{q}\td\t1\n" for q, _ in queries)
    )
    rows = []
    for i, (q, _) in enumerate(queries):
        think, skip = (0.9, 0.2) if i % 2 else (0.1, 0.6)
        rows += [
            ("tiny", "train", "trained-always", q, think, True),
            ("tiny", "train", "trained-auto", q, skip, auto_thought),
        ]
    report = tmp_path / "holdout"
    report.mkdir()
    cols = ["dataset", "split", "system", "query_id", "ndcg_at_10", "thought"]
    pl.DataFrame(rows, schema=cols, orient="row").write_parquet(report / "per_query.parquet")
    return folder, report, [t for _, t in queries]


def test_fit_gate_writes_a_gate_the_encoder_decides_with(tmp_path):
    folder, report, texts = _held_out(tmp_path)
    model = build_tiny_model(tmp_path / "model")
    args = ["model", "fit-gate", str(model), "--report", str(report), "--dataset", str(folder), "--set", "folds=4"]
    result = CliRunner().invoke(app_with(register), args)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output[result.output.index("{") :])  # after the weight-loading bar (stderr)
    assert summary["queries"] == 16 and summary["think_examples"] == 8 and summary["dataset"] == "tiny"
    assert 0.0 <= summary["threshold"] <= 1.0 and "cv_auc" in summary and summary["split"] == "train"
    gate = ThinkGate.load(model)
    enc = O1Encoder(model, EncoderConfig(use_cache=False, decider="gate", max_new_tokens=4))
    enc.encode_queries(texts, think="auto")
    p = gate.skip_probability(enc.decision_states(texts)).numpy()
    assert [r.p_close for r in enc.records] == [float(x) for x in p]
    assert [r.thought for r in enc.records] == (p < gate.threshold).tolist()


def test_fit_gate_refuses_a_report_whose_skip_system_thought(tmp_path):
    folder, report, _ = _held_out(tmp_path, auto_thought=True)
    model = build_tiny_model(tmp_path / "model")
    result = CliRunner().invoke(
        app_with(register), ["model", "fit-gate", str(model), "--report", str(report), "--dataset", str(folder)]
    )
    assert result.exit_code == 2
    assert "close_threshold=0" in result.output and "per_query.parquet" in result.output
    assert not (model / THINK_GATE_FILE).exists()
    args = ["model", "fit-gate", str(model), "--report", str(tmp_path / "none")]
    result = CliRunner().invoke(app_with(register), args)
    assert result.exit_code == 2 and "no per_query.parquet" in result.output


def test_a_real_held_out_report_gives_the_gains_and_the_gate_system_decides_with_the_gate(tmp_path):
    """The tiny model through the real evaluation: the report fit-gate reads, and trained-auto-gate using a gate."""
    import numpy as np
    import pyarrow as pa

    from o1embed.flows.evaluate import load_o1_encoder
    from o1embed.tasks.evaluation.config import EvalConfig, preset_systems
    from o1embed.tasks.evaluation.gains import thinking_gains
    from o1embed.tasks.evaluation.harness import evaluate_folder
    from o1embed.tasks.evaluation.resources import Resources
    from tests.tasks.evaluation.toy import write_tiny_vocab_beir

    model = build_tiny_model(tmp_path / "model", seed=1)
    folder = write_tiny_vocab_beir(tmp_path)
    short = {"max_new_tokens": 6}  # a random model never stops: keep its thoughts short
    presets = preset_systems(close_threshold=0.0)
    names = ("trained-never", "trained-always", "trained-auto", "trained-auto-gate")
    systems = [presets[n].model_copy(update={"options": short}) for n in names]
    hidden = O1Encoder(model, EncoderConfig(use_cache=False)).model.dim
    gate = ThinkGate(mean=[0.0] * hidden, scale=[1.0] * hidden, coef=[0.0] * hidden, intercept=5.0, threshold=0.3)
    gate.save(model)  # P(skip) = 1 - sigmoid(5) < 0.3: the gate thinks on every query
    config = EvalConfig(model_path=str(model), systems=systems, cache_dir=str(tmp_path / "v"), doc_max_tokens=16)
    result = evaluate_folder(folder, config, resources=Resources(config, encoder_loader=load_o1_encoder))
    per_query = pl.from_arrow(result.per_query) if isinstance(result.per_query, pa.Table) else result.per_query
    gains = thinking_gains(per_query, "tiny")
    assert gains.height == 8 and np.isfinite(gains["gain"].to_numpy()).all()
    dense = thinking_gains(per_query, "tiny", metric="rr")  # the uncut reciprocal rank: `fit-gate --metric rr`
    assert dense["query_id"].to_list() == gains["query_id"].to_list()
    assert (per_query["rr"] >= per_query["mrr_at_10"]).all()
    gated = per_query.filter(pl.col("system") == "trained-auto-gate")
    always = per_query.filter(pl.col("system") == "trained-always")
    assert gated["thought"].all() and gated["top_doc_ids"].to_list() == always["top_doc_ids"].to_list()
    details = result.info["system_details"]
    assert details["trained-auto-gate"]["decider"] == "gate" and details["trained-auto-gate"]["close_threshold"] == 0.3
    assert details["trained-auto"]["close_threshold"] == 0.0


def test_an_evaluation_with_the_gate_system_and_no_gate_stops_before_encoding(tmp_path):
    from o1embed.flows.evaluate import run_evaluation
    from o1embed.tasks.errors import ConfigError
    from o1embed.tasks.evaluation.config import EvalConfig
    from tests.tasks.evaluation.toy import write_tiny_vocab_beir

    model = build_tiny_model(tmp_path / "model")
    config = EvalConfig(
        datasets=[str(write_tiny_vocab_beir(tmp_path))],
        model_path=str(model),
        systems=["trained-never", "trained-auto-gate"],
        cache_dir=str(tmp_path / "v"),
        out_dir=str(tmp_path / "out"),
    )
    with pytest.raises(ConfigError, match=r"'trained-auto-gate'.*think_gate.json.*fit-gate"):
        run_evaluation(config)
    assert not (tmp_path / "v").exists()  # no corpus was encoded
