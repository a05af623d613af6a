"""The files of one training run folder, in one place.

Layout of ``output_dir``::

    model/               the final Hugging Face folder (safetensors, tokenizer, o1_config.json)
    checkpoints/         step-NNNNNNN/ full checkpoints (see trainer.checkpoint)
    train_config.json    the TrainConfig of the run
    train_log.jsonl      one JSON line per optimiser step (losses, learning rate, tokens/s)
    loss_curve.png       total, contrastive and LM loss against steps
    errors.parquet       example rows that could not train, with the reason (errors schema, stage=train)
    holdout.parquet      the examples kept out of training (holdout_share), as trainer.data.TrainingSet lists them
    result.json          final metrics and data lineage

Example:
    >>> RunFiles(Path("/tmp/run")).model.as_posix()
    '/tmp/run/model'
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class RunFiles:
    """Paths inside one run folder, plus the step log's append/read/truncate."""

    root: Path

    @property
    def model(self) -> Path:
        return self.root / "model"

    @property
    def checkpoints(self) -> Path:
        return self.root / "checkpoints"

    @property
    def config(self) -> Path:
        return self.root / "train_config.json"

    @property
    def log(self) -> Path:
        return self.root / "train_log.jsonl"

    @property
    def plot(self) -> Path:
        return self.root / "loss_curve.png"

    @property
    def errors(self) -> Path:
        return self.root / "errors.parquet"

    @property
    def holdout(self) -> Path:
        return self.root / "holdout.parquet"

    @property
    def result(self) -> Path:
        return self.root / "result.json"

    def append_log(self, record: dict) -> None:
        """Append one step record (flushed and fsynced: a killed run keeps every finished step)."""
        with open(self.log, "a") as f:
            f.write(json.dumps(record, sort_keys=True) + "\n")
            f.flush()
            os.fsync(f.fileno())

    def read_log(self) -> list[dict]:
        """Every complete step record (a torn last line from a killed run is ignored)."""
        if not self.log.exists():
            return []
        out = []
        for line in self.log.read_text().splitlines():
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError:
                continue
        return out

    def truncate_log(self, step: int) -> None:
        """Keep only records up to ``step`` (called on resume, so replayed steps are not logged twice)."""
        kept = [r for r in self.read_log() if r.get("step", 0) <= step]
        from o1embed.tasks.atomic import write_bytes_atomic

        write_bytes_atomic(self.log, "".join(json.dumps(r, sort_keys=True) + "\n" for r in kept).encode())
