"""The model card written by a real (tiny) training run, and its evaluation table after an evaluation."""

from __future__ import annotations

import json

import polars as pl
import yaml

from o1embed.trainer.launcher import launch_training
from o1embed.trainer.model_card import write_model_card
from o1embed.trainer.run_files import RunFiles
from tests.trainer.run_config import tiny_config


def front_matter(text: str) -> dict:
    assert text.startswith("---\n")
    return yaml.safe_load(text.split("---\n", 2)[1])


def test_training_writes_a_model_card_and_evaluation_updates_it(tiny_model_dir, toy_data, tmp_path):
    cfg = tiny_config(tiny_model_dir, toy_data, tmp_path / "run", max_steps=3, seed=7)
    result = launch_training(cfg)
    files = RunFiles(tmp_path / "run")
    card = (files.model / "README.md").read_text()
    meta = front_matter(card)
    assert meta["base_model"] == tiny_model_dir.name and meta["library_name"] == "transformers"
    assert meta["pipeline_tag"] == "sentence-similarity" and "o1embed" in meta["tags"]
    for needle in (
        "## Training data",
        str(toy_data[0]),  # examples path (a dataset version would name dataset, split, version)
        "| fine-tuning | full |",
        "| steps | 3 |",
        "| seed | 7 |",
        "| learning rate | 0.001 |",
        f"{result.loss:.4f}",
        "encode_query(",
        "client.embeddings.create(",
        "Not evaluated yet",
    ):
        assert needle in card, needle

    report = tmp_path / "report"
    report.mkdir()
    pl.DataFrame(
        {
            "dataset": ["scifact", "scifact"],
            "system": ["bm25", "trained-think-m1"],
            "queries": [4, 4],
            "ndcg_at_10": [0.5, 0.25],
            "recall_at_100": [0.75, 0.5],
            "mrr_at_10": [0.5, 0.125],
            "seconds": [0.1, 2.0],
        }
    ).write_parquet(report / "summary.parquet")
    write_model_card(files.model, report_dir=report)
    card = (files.model / "README.md").read_text()
    assert "| scifact | trained-think-m1 | 4 | 0.2500 | 0.5000 | 0.1250 |" in card
    assert "| steps | 3 |" in card and "Not evaluated yet" not in card  # training part kept
    assert json.loads((files.model / "model_card.json").read_text())["report_dir"] == str(report)


def test_card_names_the_dataset_version(tiny_model_dir, tmp_path):
    folder = tmp_path / "m"
    folder.mkdir()
    source = {"root": "/data/runs/scifact", "dataset": "scifact", "split": "train", "version": "abc123"}
    write_model_card(
        folder, {"model_path": None, "finetune": "lora", "lora_r": 16, "lora_alpha": 32}, {"source": source}
    )
    text = (folder / "README.md").read_text()
    meta = front_matter(text)
    assert meta["datasets"] == ["scifact"] and meta["base_model"] == "HuggingFaceTB/SmolLM2-135M-Instruct"
    assert "dataset version `abc123`" in text and "| LoRA r / alpha | 16 / 32 |" in text
