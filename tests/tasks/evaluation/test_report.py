from __future__ import annotations

import json

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from o1embed.flows.evaluate import publish_artifacts, run_evaluation
from o1embed.tasks.evaluation.config import EvalConfig
from o1embed.tasks.evaluation.resources import Resources
from o1embed.trainer.config import TrainConfig
from o1embed.trainer.model_card import write_model_card
from tests.tasks.evaluation.test_systems import ALL, Doubles
from tests.tasks.evaluation.toy import write_toy_beir


def _run(tmp_path, **fields):
    folders = [write_toy_beir(tmp_path, "toy"), write_toy_beir(tmp_path, "toy_arguana", identical=True)]
    config = EvalConfig(
        datasets=[str(f) for f in folders],
        max_queries=6,
        out_dir=str(tmp_path / "report"),
        cache_dir="",
        **fields,
    )
    doubles = Doubles()
    resources = Resources(config, retriever_factory=doubles.retriever, encoder_loader=doubles.encoder)
    return run_evaluation(config, resources=resources)


@pytest.fixture
def report(tmp_path):
    return _run(tmp_path, model_path="/trained", backbone_path="/backbone", doc_max_tokens=128)


def test_report_files(report, tmp_path):
    out = tmp_path / "report"
    for name in (
        "per_query.parquet",
        "summary.parquet",
        "deltas.parquet",
        "report.md",
        "metrics.png",
        "config.json",
    ):
        assert (out / name).is_file(), name
    assert (out / "metrics.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    per_query = pl.read_parquet(out / "per_query.parquet")
    assert per_query.height == 2 * len(ALL) * 6
    assert set(per_query.columns) >= {
        "dataset",
        "system",
        "query_id",
        "ndcg_at_10",
        "recall_at_100",
        "mrr_at_10",
    }
    saved = json.loads((out / "config.json").read_text())
    assert saved["config"]["doc_max_tokens"] == 128
    assert [d["dataset"] for d in saved["datasets"]] == ["toy", "toy_arguana"]
    assert not list(out.glob(".*"))  # no temporary files left


def test_summary_is_the_mean_of_per_query_rows(report):
    pq = pl.from_arrow(report.per_query)
    for row in report.summary.iter_rows(named=True):
        part = pq.filter((pl.col("dataset") == row["dataset"]) & (pl.col("system") == row["system"]))
        assert row["queries"] == part.height == 6
        for m in ("ndcg_at_10", "recall_at_100", "mrr_at_10"):
            assert row[m] == pytest.approx(part[m].mean())
        assert row["seconds"] is not None


def test_deltas_thinking_versus_not(report):
    d = report.deltas
    pairs = set(zip(d["system"].to_list(), d["baseline"].to_list(), strict=True))
    assert pairs == {
        ("trained", "backbone"),
        ("trained-think-m1", "trained"),
        ("trained-think-m3", "trained"),
        ("bm25-thought", "bm25"),
    }
    assert set(d["dataset"].to_list()) == {"toy", "toy_arguana"}
    row = d.filter((pl.col("dataset") == "toy") & (pl.col("system") == "trained-think-m1")).row(0, named=True)
    s = report.summary
    mean = {
        name: s.filter((pl.col("dataset") == "toy") & (pl.col("system") == name))["ndcg_at_10"][0]
        for name in ("trained", "trained-think-m1")
    }
    assert row["delta_ndcg_at_10"] == pytest.approx(mean["trained-think-m1"] - mean["trained"])
    assert row["better"] + row["worse"] <= row["queries"] == 6


def test_markdown_states_the_setup_and_tables(report):
    md = report.markdown
    assert "Documents are cut to 128 tokens" in md
    assert "the first 6 judged queries" in md
    assert "`ignore_identical_ids`) on: toy_arguana." in md
    assert "## nDCG@10" in md and "## Thinking versus not" in md
    assert "| trained-think-m3 |" in md
    assert "![" in md and "metrics.png" in md
    ndcg_header = next(line for line in md.splitlines() if line.startswith("| system | toy"))
    assert ndcg_header == "| system | toy | toy_arguana |"


def test_no_artifacts_outside_prefect(report):
    assert publish_artifacts(report) is False


def test_the_sets_outside_the_training_set_are_reported_together(tmp_path):
    trained = tmp_path / "trained"
    trained.mkdir()
    # the card as the trainer writes it, so a change to its layout fails here rather than empties the tables
    train_config = TrainConfig(output_dir=str(tmp_path / "run"), data={"root": str(tmp_path), "dataset": "toy"})
    write_model_card(trained, train_config.model_dump(mode="json"), {"loss": None})
    report = _run(tmp_path, model_path=str(trained), backbone_path="/backbone")
    assert report.in_domain == ["toy"]  # read from the trained model's card
    assert json.loads((tmp_path / "report" / "config.json").read_text())["in_domain"] == ["toy"]
    means = pl.read_parquet(tmp_path / "report" / "out_of_domain.parquet")
    ood = report.summary.filter(pl.col("dataset") == "toy_arguana")
    assert means["system"].to_list() == ood["system"].to_list()
    assert means["ndcg_at_10"].to_list() == pytest.approx(ood["ndcg_at_10"].to_list())  # one set: its own mean
    deltas = pl.read_parquet(tmp_path / "report" / "out_of_domain_deltas.parquet")
    per_set = report.deltas.filter(pl.col("dataset") == "toy_arguana")
    assert deltas["delta_ndcg_at_10"].to_list() == pytest.approx(per_set["delta_ndcg_at_10"].to_list())
    assert deltas["p_value"].to_list() == pytest.approx(per_set["p_value"].to_list())
    assert "## Out of domain" in report.markdown and "in domain: toy)" in report.markdown


def test_no_out_of_domain_tables_without_a_known_training_set(tmp_path):
    report = _run(tmp_path, systems=["bm25", "minilm"])
    assert report.in_domain == [] and report.ood_summary.height == 0
    assert not (tmp_path / "report" / "out_of_domain.parquet").exists()
    assert "## Out of domain" not in report.markdown
    explicit = _run(tmp_path, systems=["bm25", "minilm"], in_domain=["toy_arguana"])
    assert explicit.ood_summary["datasets"].to_list() == [1, 1]


def test_a_query_ids_file_chooses_the_queries_and_the_report_says_so(tmp_path):
    ids = tmp_path / "holdout.parquet"
    pq.write_table(pa.table({"query_id": ["q1", "q3"]}), ids)
    folder = write_toy_beir(tmp_path, "toy")
    config = EvalConfig(
        datasets=[str(folder)], systems=["bm25"], query_ids_file=str(ids), out_dir=str(tmp_path / "r"), cache_dir=""
    )
    doubles = Doubles()
    resources = Resources(config, retriever_factory=doubles.retriever, encoder_loader=doubles.encoder)
    report = run_evaluation(config, resources=resources)
    per_query = pl.read_parquet(tmp_path / "r" / "per_query.parquet")
    assert sorted(per_query["query_id"].unique().to_list()) == ["q1", "q3"]
    assert f"all judged queries listed in `{ids}` of each dataset" in report.markdown
