"""The result of a training run: what ``result.json`` holds, typed.

Rank 0 writes ``<output_dir>/result.json`` when the run ends (:mod:`trainer.loop`);
:func:`trainer.launcher.launch_training` and the ``train`` flow return it as a :class:`TrainResult`.

Example:
    >>> r = TrainResult.model_validate({"step": 3, "total_steps": 3, "world_size": 1, "resumed_from": None,
    ...     "model_dir": "runs/o1/model", "loss": 1.0, "contrastive": 0.5, "lm": 2.0, "source": {}})
    >>> r.model_dir, r.total_steps
    ('runs/o1/model', 3)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict


class TrainResult(BaseModel):
    """Final step, losses, the saved model folder and the data lineage of a finished run.

    Attributes:
        step: the last step trained (equals ``total_steps``).
        total_steps: the planned steps.
        world_size: the number of DDP workers.
        resumed_from: the checkpoint folder the run resumed from, or None.
        model_dir: the saved model (load it with :class:`trainer.encoder.O1Encoder`).
        loss, contrastive, lm: the last step's total, InfoNCE and LM losses (None when not computed).
        source: the dataset version trained on (root, dataset, split, version, corpus folder).
    """

    model_config = ConfigDict(extra="allow")

    step: int
    total_steps: int
    world_size: int
    resumed_from: str | None = None
    model_dir: str
    loss: float | None = None
    contrastive: float | None = None
    lm: float | None = None
    source: dict[str, Any] = {}

    @classmethod
    def read(cls, path: Path) -> TrainResult:
        """Read a run's ``result.json``."""
        return cls.model_validate_json(Path(path).read_text())
