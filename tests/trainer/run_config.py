"""Shared TrainConfig of the loop tests (tiny model, toy data, fp32 CPU, full fine-tuning)."""

from __future__ import annotations

from pathlib import Path

from o1embed.trainer.config import TrainConfig


def tiny_config(model_dir: Path, data: tuple[Path, Path], output: Path, **kw) -> TrainConfig:
    base = dict(
        model_path=str(model_dir),
        data={"examples_path": str(data[0]), "corpus_path": str(data[1])},
        output_dir=str(output),
        queries_per_step=4,
        negatives_per_query=2,
        max_steps=8,
        finetune="full",
        learning_rate=1e-3,
        temperature=0.1,
        gradient_checkpointing=False,
        checkpoint_every=3,
        use_ray=False,
        model={"dtype": "float32"},
    )
    return TrainConfig(**(base | kw))
