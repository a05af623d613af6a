"""The real baselines (bm25s BM25 and all-MiniLM-L6-v2) through the whole harness on a SciFact subsample."""

from __future__ import annotations

import polars as pl
import pytest

from o1embed.flows.evaluate import run_evaluation
from o1embed.tasks.evaluation.config import EvalConfig


@pytest.mark.slow
@pytest.mark.real
def test_bm25_and_minilm_on_a_scifact_subsample(tmp_path):
    import torch

    torch.set_num_threads(2)
    config = EvalConfig(
        datasets=["scifact"],
        systems=["bm25", "minilm"],
        max_queries=50,
        corpus_sample=500,
        out_dir=str(tmp_path / "report"),
    )
    report = run_evaluation(config)
    s = {r["system"]: r for r in report.summary.iter_rows(named=True)}
    assert set(s) == {"bm25", "minilm"}
    info = report.datasets[0]
    assert info["queries"] == 50 and info["queries_judged"] == 300
    assert 500 < info["documents"] <= 600 and info["documents_total"] == 5183
    for name, row in s.items():
        assert row["queries"] == 50
        # full-corpus references: BM25 0.686, MiniLM 0.645; a 10x smaller corpus can only make it easier
        assert 0.6 <= row["ndcg_at_10"] <= 0.98, (name, row)
        assert row["recall_at_100"] >= 0.9, (name, row)
        assert 0.55 <= row["mrr_at_10"] <= 0.98, (name, row)
    per_query = pl.read_parquet(tmp_path / "report" / "per_query.parquet")
    assert per_query.height == 100
    # the two systems really differ query by query
    wide = per_query.pivot(on="system", index="query_id", values="ndcg_at_10")
    assert (wide["bm25"] != wide["minilm"]).sum() > 5
