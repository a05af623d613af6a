"""The thinking-mode systems in a report: deltas with p-values, thinking cost, the cost-quality sweep."""

from __future__ import annotations

import polars as pl
import pytest

from o1embed.flows.evaluate import run_evaluation
from o1embed.tasks.evaluation.config import THINKING_MODE_SYSTEMS, EvalConfig
from o1embed.tasks.evaluation.resources import Resources
from tests.tasks.evaluation.toy import FakeAutoEncoder, FakeRetriever, write_toy_beir

SYSTEMS = [*THINKING_MODE_SYSTEMS, "bm25", "bm25-thought-auto"]


@pytest.fixture
def report(tmp_path):
    folders = [write_toy_beir(tmp_path, "toy"), write_toy_beir(tmp_path, "toy2")]
    config = EvalConfig(
        datasets=[str(f) for f in folders],
        model_path="/trained",
        systems=SYSTEMS,
        out_dir=str(tmp_path / "report"),
        cache_dir="",
        cost_quality_thresholds=[0.0, 0.5, 1.0],
    )
    encoders: list[FakeAutoEncoder] = []

    def load(path, spec, cfg):
        encoders.append(FakeAutoEncoder(path))
        return encoders[-1]

    resources = Resources(config, retriever_factory=lambda s, p, c: FakeRetriever(s.kind), encoder_loader=load)
    out = run_evaluation(config, resources=resources)
    assert len(encoders) == 1  # one model, loaded once for both datasets
    return out


def test_deltas_against_never_have_counts_and_p_values(report):
    d = report.deltas.filter(pl.col("baseline") == "trained-never")
    assert set(d["system"]) == {"trained-always", "trained-auto", "trained-auto-fused"}
    assert (d["better"] + d["worse"] + d["tied"] == d["queries"]).all()
    assert d["p_value"].is_between(0, 1).all()
    md = report.markdown
    assert "better / worse / tied queries" in md and "permutation_test" in md


def test_thinking_cost_per_dataset(report):
    s = report.summary
    share = {r["system"]: r["thought_share"] for r in s.filter(pl.col("dataset") == "toy").iter_rows(named=True)}
    assert share["trained-never"] == 0.0 and share["trained-always"] == 1.0
    assert share["trained-auto"] == pytest.approx(0.5)  # 4 of the 8 judged topics sit at even positions
    assert share["bm25"] is None
    tokens = s.filter((pl.col("dataset") == "toy") & (pl.col("system") == "trained-auto"))["thought_tokens"][0]
    assert tokens == pytest.approx(1.5) and "## Thinking cost" in report.markdown
    pq = pl.from_arrow(report.per_query)
    auto = pq.filter(pl.col("system") == "bm25-thought-auto")
    assert all((len(t) > 0) == th for t, th in zip(auto["thoughts"], auto["thought"], strict=True))


def test_cost_quality_sweep_and_plot(report):
    cq = report.cost_quality
    assert set(cq["dataset"]) == {"toy", "toy2"}
    toy = cq.filter(pl.col("dataset") == "toy")
    by_t = {r["threshold"]: r for r in toy.filter(pl.col("point") == "auto").iter_rows(named=True)}
    assert by_t[0.0]["thought_share"] == 0.0 and by_t[1.0]["thought_share"] == 1.0
    assert by_t[0.5]["thought_share"] == pytest.approx(0.5)
    points = {r["point"]: r["ndcg_at_10"] for r in toy.filter(pl.col("point") != "auto").iter_rows(named=True)}
    assert by_t[0.0]["ndcg_at_10"] == pytest.approx(points["never"])  # all skip = the bare query here
    assert by_t[1.0]["ndcg_at_10"] == pytest.approx(points["always"])
    auto = report.summary.filter((pl.col("dataset") == "toy") & (pl.col("system") == "trained-auto"))
    assert by_t[0.5]["ndcg_at_10"] == pytest.approx(auto["ndcg_at_10"][0])  # the sweep reproduces the system
    fused = toy.filter(pl.col("point") == "fused")
    assert fused.height == 3 * 9 and fused["fusion_alpha"].is_between(0.1, 0.9).all()
    assert toy.filter(pl.col("point") != "fused")["fusion_alpha"].is_null().all()
    row = fused.filter((pl.col("threshold") == 0.5) & (pl.col("fusion_alpha") == 0.5))
    system = report.summary.filter((pl.col("dataset") == "toy") & (pl.col("system") == "trained-auto-fused"))
    assert row["ndcg_at_10"][0] == pytest.approx(system["ndcg_at_10"][0])  # the fused sweep reproduces the system
    assert "bench/pick_fusion.py" in report.markdown
    png = report.paths["cost_quality_chart"]
    assert png.read_bytes()[:4] == b"\x89PNG" and "cost_quality.png" in report.markdown
    assert report.paths["cost_quality"].is_file()
