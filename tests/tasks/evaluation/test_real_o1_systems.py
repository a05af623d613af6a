"""The trained-model systems through the real O1Encoder on the real SmolLM2-135M (untrained: this checks plumbing)."""

from __future__ import annotations

import polars as pl
import pytest

from o1embed.flows.evaluate import run_evaluation
from o1embed.tasks.evaluation.config import EvalConfig, preset_systems


def smollm2_backbone():
    """The real SmolLM2-135M-Instruct as a transformers folder (the repo's copy, else converted from the GGUF)."""
    import torch

    from o1embed.tasks.paths import REPO_ROOT
    from o1embed.trainer.prepare import is_hf_folder, prepare_gguf_model

    torch.set_num_threads(2)
    repo_copy = REPO_ROOT / "data" / "models" / "SmolLM2-135M-Instruct"
    return repo_copy if is_hf_folder(repo_copy) else prepare_gguf_model()


@pytest.mark.slow
@pytest.mark.real
def test_o1_systems_on_smollm2_over_a_scifact_sliver(tmp_path):
    model = smollm2_backbone()
    short = {"max_new_tokens": 16, "query_batch_size": 5}
    presets = preset_systems()
    systems = [presets[n].model_copy(update={"options": short}) for n in ("trained", "trained-think-m1")]
    systems += ["bm25", presets["bm25-thought"].model_copy(update={"options": {"encoder": short}})]
    config = EvalConfig(
        datasets=["scifact"],
        model_path=str(model),
        systems=systems,
        max_queries=5,
        corpus_sample=40,
        doc_max_tokens=64,
        out_dir=str(tmp_path / "report"),
    )
    report = run_evaluation(config)
    per_query = pl.read_parquet(tmp_path / "report" / "per_query.parquet")
    assert per_query.height == 4 * 5
    thinking = per_query.filter(pl.col("system") == "trained-think-m1")
    thoughts = [t[0] for t in thinking["thoughts"].to_list()]
    assert sum(bool(t.strip()) for t in thoughts) >= 3, thoughts  # SmolLM2 writes something for most claims
    assert per_query.filter(pl.col("system") == "bm25-thought")["thoughts"].to_list() == thinking["thoughts"].to_list()
    assert per_query["ndcg_at_10"].is_between(0, 1).all()
    assert set(report.deltas["system"]) == {"trained-think-m1", "bm25-thought"}
    md = (tmp_path / "report" / "report.md").read_text()
    assert "Documents are cut to 64 tokens" in md and '"max_new_tokens": 16' in md
    # BM25 over 45 documents finds most positives of 5 SciFact claims
    assert report.summary.filter(pl.col("system") == "bm25")["recall_at_100"][0] == 1.0


@pytest.mark.slow
@pytest.mark.real
def test_thinking_mode_systems_on_smollm2(tmp_path):
    """never / always / auto / auto-fused and the sweep, end to end on the real backbone (plumbing, not quality)."""
    from o1embed.tasks.evaluation.config import THINKING_MODE_SYSTEMS

    model = smollm2_backbone()
    short = {"max_new_tokens": 8, "query_batch_size": 5}
    presets = preset_systems()
    systems = [presets[n].model_copy(update={"options": short}) for n in THINKING_MODE_SYSTEMS]
    config = EvalConfig(
        datasets=["scifact"],
        model_path=str(model),
        systems=systems,
        max_queries=5,
        corpus_sample=20,
        doc_max_tokens=32,
        cost_quality_thresholds=[0.0, 0.5, 1.0],
        out_dir=str(tmp_path / "report"),
    )
    report = run_evaluation(config)
    s = {r["system"]: r for r in report.summary.iter_rows(named=True)}
    assert s["trained-never"]["thought_share"] == 0.0 and s["trained-always"]["thought_share"] == 1.0
    assert s["trained-always"]["thought_tokens"] >= 1 and s["trained-always"]["query_seconds"] > 0
    assert 0.0 <= s["trained-auto"]["thought_share"] <= 1.0
    d = report.deltas
    assert set(d["system"]) == {"trained-always", "trained-auto", "trained-auto-fused"}
    assert d["p_value"].is_between(0, 1).all() and (d["better"] + d["worse"] + d["tied"] == 5).all()
    cq = report.cost_quality
    assert set(cq["point"]) == {"never", "always", "auto", "fused"}
    auto = cq.filter(pl.col("point") == "auto").sort("threshold")
    assert auto["thought_share"].to_list()[0] == 0.0 and auto["thought_share"].to_list()[-1] == 1.0
    assert (tmp_path / "report" / "cost_quality.png").is_file()
    assert "## Thinking cost" in (tmp_path / "report" / "report.md").read_text()
