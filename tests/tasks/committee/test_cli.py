"""``o1embed committee run|check`` and ``o1embed export --format flagembedding`` on a toy dataset version."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from o1embed.flows.cli import app


def test_run_check_and_export(toy_dv, bm25_config, tmp_path):
    cfg = tmp_path / "committee.json"
    cfg.write_text(bm25_config.model_dump_json())
    runner = CliRunner()
    root = str(toy_dv.root)
    res = runner.invoke(app, ["committee", "run", root, "--config", str(cfg), "--no-prefect", "--set", "use_ray=false"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["stats"]["examples"] == 16
    res = runner.invoke(app, ["committee", "check", root, "--out", str(tmp_path / "check.json")])
    assert res.exit_code == 0, res.output
    assert json.loads((tmp_path / "check.json").read_text())["chosen_beats_random"]
    out = tmp_path / "train.jsonl"
    res = runner.invoke(app, ["export", root, "--format", "flagembedding", "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert len(out.read_text().splitlines()) == 16
    res = runner.invoke(app, ["export", root, "--format", "tevatron", "--out", str(out)])
    assert res.exit_code != 0 and "unknown format" in res.output


def test_version_must_be_unambiguous(tmp_path):
    res = CliRunner().invoke(app, ["committee", "run", str(tmp_path)])
    assert res.exit_code != 0
    assert "0 dataset versions" in str(res.exception)
