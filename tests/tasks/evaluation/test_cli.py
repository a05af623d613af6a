from __future__ import annotations

import polars as pl
from typer.testing import CliRunner

from o1embed.flows.cli.evaluate import register
from tests.tasks.evaluation.toy import write_toy_beir
from tests.typer_app import app_with


def test_cli_evaluate_with_real_bm25(tmp_path):
    folder = write_toy_beir(tmp_path)
    out = tmp_path / "out"
    result = CliRunner().invoke(
        app_with(register), ["evaluate", str(folder), "--system", "bm25", "--set", "max_queries=5", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "| bm25 |" in result.output and "report:" in result.output
    per_query = pl.read_parquet(out / "per_query.parquet")
    assert per_query.height == 5
    assert per_query["ndcg_at_10"].mean() > 0.5  # the topic word picks out its two documents


def test_cli_reports_configuration_errors(tmp_path):
    result = CliRunner().invoke(app_with(register), ["evaluate", str(tmp_path / "missing"), "--system", "bm25"])
    assert result.exit_code == 2
    assert "neither a BEIR folder" in result.output
    result = CliRunner().invoke(app_with(register), ["evaluate", "scifact", "--system", "trained"])
    assert result.exit_code == 2 and "model_path" in result.output
    result = CliRunner().invoke(app_with(register), ["evaluate", "scifact", "--system", "{bad json"])
    assert result.exit_code != 0


def test_cli_takes_fields_from_the_config_file_and_set(tmp_path):
    """--config gives any EvalConfig field, the arguments override it, and each --set overrides both."""
    folder = write_toy_beir(tmp_path)
    out = tmp_path / "out"
    cfg = tmp_path / "eval.yaml"
    cfg.write_text(f"datasets: [{folder}]\nsystems: [minilm]\nmax_queries: 2\nout_dir: {tmp_path / 'x'}\n")
    result = CliRunner().invoke(
        app_with(register),
        ["evaluate", "--config", str(cfg), "--system", "bm25", "--out", str(out), "--set", "max_queries=3"],
    )
    assert result.exit_code == 0, result.output
    per_query = pl.read_parquet(out / "per_query.parquet")
    assert per_query.height == 3 and set(per_query["system"]) == {"bm25"}
    result = CliRunner().invoke(app_with(register), ["evaluate", str(folder), "--set", "top_k=50"])
    assert result.exit_code == 2 and "top_k" in result.output
