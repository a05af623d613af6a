"""``o1embed train`` and ``o1embed model prepare`` through the command line."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from o1embed.flows.cli import app


def test_train_command_runs_and_resumes(tiny_model_dir, toy_data, tmp_path):
    out = tmp_path / "run"
    args = [
        "train",
        "--examples",
        str(toy_data[0]),
        "--corpus",
        str(toy_data[1]),
        "--model",
        str(tiny_model_dir),
        "--output",
        str(out),
        "--steps",
        "2",
        "--no-ray",
        "--finetune",
        "full",
        "--set",
        "queries_per_step=4",
        "--set",
        "negatives_per_query=2",
        "--set",
        "gradient_checkpointing=false",
        "--set",
        "model.dtype=float32",
    ]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    cfg = json.loads((out / "train_config.json").read_text())
    assert cfg["queries_per_step"] == 4 and cfg["model"]["dtype"] == "float32" and cfg["max_steps"] == 2
    again = CliRunner().invoke(app, args)  # same output folder: resumes at the end, nothing retrained
    assert again.exit_code == 0, again.output
    assert json.loads((out / "result.json").read_text())["resumed_from"].endswith("step-0000002")


def test_train_command_names_missing_data(tmp_path):
    res = CliRunner().invoke(app, ["train", "--output", str(tmp_path)])
    assert res.exit_code != 0 and "data" in res.output


@pytest.mark.slow
@pytest.mark.real
def test_model_prepare_converts_smollm2_gguf(tmp_path):
    from transformers import AutoModelForCausalLM

    res = CliRunner().invoke(app, ["model", "prepare", "--output", str(tmp_path / "smol")])
    assert res.exit_code == 0, res.output
    lm = AutoModelForCausalLM.from_pretrained(tmp_path / "smol")
    assert lm.config.hidden_size == 576 and getattr(lm.config, "quantization_config", None) is None
    res = CliRunner().invoke(app, ["model", "prepare", "--output", str(tmp_path / "smol")])  # cached: no work
    assert res.exit_code == 0


def test_copy_weights_names_a_folder_without_checkpoints(tmp_path):
    res = CliRunner().invoke(app, ["model", "copy-weights", str(tmp_path / "none"), str(tmp_path / "out")])
    assert res.exit_code == 2 and "holds no complete checkpoint" in res.output and "none" in res.output
